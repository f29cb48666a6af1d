"""Starting and stopping fac_sim.py from the Python tests (e2e, facctl,
deb, bench): the one place that waits for its "PORT <n>" line and stops it.
Each caller keeps its own users file, certificates and control API client.
"""
import os
import select
import subprocess
import time

SIMULATOR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fac_sim.py")


def start(args, stderr=subprocess.DEVNULL, timeout=15, **popen):
    """Runs `fac_sim.py ARGS` (`--port 0` among them) and returns (process,
    port). RuntimeError, with what it printed, if no PORT line comes within
    `timeout` seconds; the process is stopped then."""
    proc = subprocess.Popen(["/usr/bin/python3", SIMULATOR, *args], stdout=subprocess.PIPE, stderr=stderr,
                            **popen)
    line = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in line:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([proc.stdout], [], [], left)[0]:
            break
        chunk = os.read(proc.stdout.fileno(), 128)
        if not chunk:
            break
        line += chunk
    if not line.startswith(b"PORT "):
        stop(proc)
        raise RuntimeError(f"the simulator did not start: {line!r}")
    return proc, int(line.split()[1])


def stop(proc, grace=10):
    """SIGTERM, then SIGKILL after `grace` seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    proc.stdout.close()
