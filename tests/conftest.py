"""Project-wide test settings.

Every tensor in these tests is tiny, and pytest-xdist runs one test process per core
next to the grading workers: torch's default of one intra-op thread per core then
oversubscribes the CPU, and OpenMP's spin-waiting made single tests 50x slower on
2 cores. One thread per test process is the fastest setting here.
"""
import torch

torch.set_num_threads(1)
