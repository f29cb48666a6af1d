#!/usr/bin/python3
"""Runs tests/sim/fac_sim.py (same arguments) with a listen backlog of
$BENCH_SIM_BACKLOG (default 1024) instead of Python socketserver's 5.

With a backlog of 5, a burst of 200 simultaneous connections overflows the
accept queue: the kernel drops the SYNs, clients retransmit them after 1 s
and 3 s, and with a 3 s connect timeout some logins fail (curl's as well as
pam_fac's). A real FortiAuthenticator (nginx) listens with a backlog of 511
or more, so figure 4 of `make bench` uses this; the simulator itself is
unchanged.
"""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in tests/sim
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sim"))
import fac_sim  # noqa: E402  (ftc_sim's "import fac_sim" finds this same module)

fac_sim.SimServer.request_queue_size = int(os.environ.get("BENCH_SIM_BACKLOG", "1024"))
sys.exit(fac_sim.main())
