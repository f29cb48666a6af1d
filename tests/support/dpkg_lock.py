"""dpkg's frontend lock, taken as apt takes it (an fcntl lock), by the tests
that change /etc (tests/deb, tests/e2e) so that they never run at the same
time as each other or as apt. A dpkg run meanwhile needs
DPKG_FRONTEND_LOCKED=1 so that it does not wait for us."""
import fcntl
import os
import time

FRONTEND_LOCK = "/var/lib/dpkg/lock-frontend"


class FrontendLock:
    def __init__(self, timeout, on_wait=None):
        """Waits up to `timeout` seconds; `on_wait()`, if given, is called
        once when the lock is found taken."""
        self.fd = os.open(FRONTEND_LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o640)
        deadline = time.monotonic() + timeout
        waiting = False
        while True:
            try:
                fcntl.lockf(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except OSError:
                if time.monotonic() > deadline:
                    os.close(self.fd)
                    raise AssertionError(f"{FRONTEND_LOCK} stayed locked for {timeout} s "
                                         "(apt, dpkg, tests/deb or tests/e2e running)")
                if not waiting and on_wait is not None:
                    on_wait()
                waiting = True
                time.sleep(0.5)

    def release(self):
        if self.fd is not None:
            fcntl.lockf(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
