"""Hostile: reach a service on the host: TCP on 127.0.0.1 / ::1, and a unix socket.

argv: PORT UNIX_SOCKET_PATH. Prints `connected WHERE` or `refused WHERE ERROR` per try.
"""
import socket
import sys

port, unix_path = int(sys.argv[1]), sys.argv[2]
tries = [(socket.AF_INET, ("127.0.0.1", port)), (socket.AF_INET6, ("::1", port)), (socket.AF_UNIX, unix_path)]
for family, address in tries:
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(3)
            sock.connect(address)
            sock.sendall(b"exfiltrated")
        print(f"connected {address}", flush=True)
    except OSError as exc:
        print(f"refused {address} {exc}", flush=True)
