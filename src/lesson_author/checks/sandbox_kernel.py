"""The kernel process the notebook check starts: limits first, then an ordinary IPython kernel.

``python -m lesson_author.checks.sandbox_kernel MEMORY_MB STATUS_FILE -f CONNECTION_FILE``

Before ipykernel starts (while the process is still single-threaded) it

* caps the address space at MEMORY_MB (``resource.setrlimit(RLIMIT_AS)``), where the
  platform has ``resource``;
* moves into a network namespace of its own with only a loopback that is down
  (``unshare(CLONE_NEWNET)`` as root; otherwise inside a new user namespace that maps the
  caller's own uid/gid), where Linux allows it. The kernel talks to the check over Unix
  sockets (``transport=ipc``), which a network namespace does not cut;
* writes what it managed to STATUS_FILE (JSON), so the finding can say how it was contained.
"""

from __future__ import annotations

import json
import os
import sys


def _limit_memory(megabytes: int) -> str:
    try:
        import resource

        limit = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        return f"address space limited to {megabytes} MB"
    except (ImportError, ValueError, OSError) as exc:
        return f"memory not limited ({exc.__class__.__name__})"


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="ascii") as f:
        f.write(text)


def _isolate_network() -> tuple[bool, str]:
    if not sys.platform.startswith("linux"):
        return False, f"network not isolated (no network namespaces on {sys.platform})"
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
    except OSError as exc:
        return False, f"network not isolated ({exc})"
    clone_newnet, clone_newuser = 0x40000000, 0x10000000
    if libc.unshare(clone_newnet) == 0:
        return True, "no network (own network namespace)"
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(clone_newuser | clone_newnet) == 0:
        try:
            _write("/proc/self/setgroups", "deny")
            _write("/proc/self/uid_map", f"{uid} {uid} 1")
            _write("/proc/self/gid_map", f"{gid} {gid} 1")
        except OSError:
            pass
        return True, "no network (own user and network namespace)"
    return False, f"network not isolated (unshare failed: errno {ctypes.get_errno()})"


def main() -> None:
    megabytes, status_file = int(sys.argv[1]), sys.argv[2]
    memory = _limit_memory(megabytes)
    isolated, network = _isolate_network()
    with open(status_file, "w", encoding="utf-8") as f:
        json.dump({"memory": memory, "network": network, "network_isolated": isolated}, f)
    # the kernel's own chatter ("Parent appears to have exited") goes to a file beside the
    # status, not into the terminal of the review that started it
    log = os.open(status_file + ".log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    sys.argv = [sys.argv[0], *sys.argv[3:]]
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


if __name__ == "__main__":
    main()
