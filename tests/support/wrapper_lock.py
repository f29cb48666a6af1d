"""pam_wrapper picks its /tmp/pam.X directory when a process loads it,
without locking: two processes starting at once can share one and read each
other's PAM stacks. Every test process that loads pam_wrapper starts under
one lock on /tmp itself (tests/integration/run.sh takes the same one with
flock(1)); hold it until the process has made its directory."""
import contextlib
import fcntl
import os


@contextlib.contextmanager
def wrapper_startup():
    fd = os.open("/tmp", os.O_RDONLY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
