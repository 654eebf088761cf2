"""Hostile: give itself full marks in the results store (an sqlite file)."""
import sqlite3
import sys

for path in sys.argv[1:]:
    try:
        db = sqlite3.connect(path)
        db.execute("UPDATE scores SET score = 100")
        db.execute("CREATE TABLE IF NOT EXISTS forged (x)")
        db.commit()
        print(f"forged {path}", flush=True)
    except sqlite3.Error as exc:
        print(f"refused {path} {exc}", flush=True)
