# Escape attempts run inside the sandbox by sandbox-escape.test.ts, one after another in one process.
# argv[1] is a JSON object of host-side facts (paths, ports, pids). For each attempt this prints
# "BEGIN <name>" before trying and "RESULT <name> <outcome>" after, where <outcome> is
# "errno=<ENAME>" (the call failed with that errno), "ok" or "ok:<detail>" (the call succeeded), or
# "value:<detail>" (an observation). The test decides which outcomes are escapes.
import ctypes
import errno
import fcntl
import json
import os
import signal
import socket
import stat
import subprocess
import sys

cfg = json.loads(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p]
libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
libc.unshare.argtypes = [ctypes.c_int]
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
libc.ptrace.restype = ctypes.c_long

GIB = 1024 ** 3


class CallFailed(Exception):
    def __init__(self, err):
        self.err = err


def check(ret):
    """Raises CallFailed with errno when a libc call returned -1."""
    if ret == -1:
        raise CallFailed(ctypes.get_errno())
    return ret


def attempt(name, fn):
    print(f"BEGIN {name}", flush=True)
    try:
        detail = fn()
        outcome = "ok" if detail is None else (detail if detail.startswith("value:") else f"ok:{detail}")
    except CallFailed as e:
        outcome = f"errno={errno.errorcode.get(e.err, e.err)}"
    except OSError as e:
        outcome = f"errno={errno.errorcode.get(e.errno, e.errno)}" if e.errno else f"error:{type(e).__name__}"
    except socket.gaierror as e:
        outcome = f"gaierror:{e.errno}"
    except MemoryError:
        outcome = "value:MemoryError"
    except Exception as e:  # noqa: BLE001 - every other failure is reported, never hidden
        outcome = f"error:{type(e).__name__}:{e}"
    print(f"RESULT {name} {outcome}", flush=True)


def status_fields():
    fields = {}
    with open("/proc/self/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            fields[k] = v.strip()
    return fields


def creds():
    s = status_fields()
    keep = ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp"]
    return "value:" + ",".join(f"{k}={s[k]}" for k in keep) + f",uid={os.getuid()},euid={os.geteuid()}"


def open_write(path, flags=os.O_WRONLY):
    os.close(os.open(path, flags))


def read(path):
    with open(path, "rb") as f:
        return f"read {len(f.read())} bytes"


def listdir(path):
    return "value:" + ",".join(sorted(os.listdir(path)))


def exists(path):
    return "value:" + ("present" if os.path.lexists(path) else "absent")


def connect_tcp(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect((host, port))
        return "connected"
    finally:
        s.close()


def connect_unix(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        return "connected"
    finally:
        s.close()


def secret_in_env():
    secret = cfg["envSecret"]
    found = [k for k, v in os.environ.items() if secret in v or k == cfg["envSecretName"]]
    for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if secret.encode() in f.read():
                    found.append(f"/proc/{pid}/environ")
        except OSError:
            pass
    return "value:" + (",".join(found) if found else "absent")


def proc_pids():
    pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    hidden = [cfg["rootSentinelPid"], cfg["uidSentinelPid"], cfg["hostPid"]]
    visible = [p for p in hidden if p in pids]
    return f"value:count={len(pids)},max={max(pids)},host-visible={visible}"


def fd_targets():
    out = []
    d = os.open("/proc/self/fd", os.O_RDONLY | os.O_DIRECTORY)
    try:
        for name in os.listdir(d):
            fd = int(name)
            if fd <= 2 or fd == d:
                continue
            try:
                out.append(f"{fd}:{os.readlink(f'/proc/self/fd/{fd}')}")
            except OSError:
                pass
    finally:
        os.close(d)
    return "value:" + (",".join(sorted(out)) if out else "none")


def symlink_write():
    link = os.path.join(cfg["workspace"], "tm-link-passwd")
    os.symlink("/etc/passwd", link)
    open_write(link, os.O_WRONLY | os.O_APPEND)
    return "wrote through the link"


def setuid_binary():
    r = subprocess.run(["/usr/bin/su", "root", "-c", "id -u"], stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
    m = subprocess.run(["/usr/bin/mount", "-t", "tmpfs", "none", "/tmp"], stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
    became_root = r.stdout.strip() == b"0"
    return f"value:su-rc={r.returncode},su-root={became_root},mount-rc={m.returncode}"


def memory_hog():
    b = bytearray(6 * GIB)
    return f"allocated {len(b)}"


def big_file():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    path = "/tmp/tm-big"
    with open(path, "wb") as f:
        f.truncate(6 * GIB)
    return "created"


def fill_shm():
    chunk = b"\0" * (1 << 20)
    with open("/dev/shm/tm-fill", "wb") as f:
        for _ in range(128):
            f.write(chunk)
            f.flush()
    return "wrote 128 MiB"


def tmp_size():
    st = os.statvfs("/tmp")
    return f"value:{st.f_blocks * st.f_frsize}"


def socket_unix(kind):
    socket.socket(socket.AF_UNIX, kind).close()
    return "created"


def socketpair_works():
    a, b = socket.socketpair()
    a.sendall(b"x")
    got = b.recv(1)
    a.close()
    b.close()
    return "value:" + got.decode()


def write_workspace():
    path = os.path.join(cfg["workspace"], "tm-written")
    with open(path, "w") as f:
        f.write("from the sandbox\n")
    return "written"


def kill_all():
    os.kill(-1, signal.SIGKILL)
    return "sent"


ws = cfg["workspace"]
network = cfg["network"]

attempt("credentials", creds)
attempt("setuid-0", lambda: os.setuid(0))
attempt("mount-remount-root-rw", lambda: check(libc.mount(b"none", b"/", None, 32 | 4096, None)))  # MS_REMOUNT|MS_BIND
attempt("mount-tmpfs", lambda: check(libc.mount(b"none", b"/tmp", b"tmpfs", 0, None)))
attempt("umount-proc", lambda: check(libc.umount2(b"/proc", 2)))  # MNT_DETACH
attempt("unshare-user", lambda: check(libc.unshare(0x10000000)))  # CLONE_NEWUSER
attempt("unshare-mount", lambda: check(libc.unshare(0x00020000)))  # CLONE_NEWNS
attempt("chroot", lambda: os.chroot("/tmp"))
attempt("write-usr", lambda: open_write("/usr/" + cfg["marker"], os.O_WRONLY | os.O_CREAT))
attempt("write-etc-passwd", lambda: open_write("/etc/passwd", os.O_WRONLY | os.O_APPEND))
attempt("create-in-root", lambda: open_write("/" + cfg["marker"], os.O_WRONLY | os.O_CREAT))
attempt("create-in-dev", lambda: open_write("/dev/" + cfg["marker"], os.O_WRONLY | os.O_CREAT))
attempt("read-shadow", lambda: read("/etc/shadow"))
attempt("list-root", lambda: listdir("/root"))
attempt("list-home", lambda: listdir("/home"))
attempt("read-data-dir-secret", lambda: read(cfg["dataSecret"]))
attempt("read-server-config", lambda: read(cfg["serverConfig"]))
attempt("read-server-code", lambda: read(cfg["serverCode"]))
attempt("read-other-thread", lambda: read(cfg["otherThreadSecret"]))
attempt("read-other-tenant", lambda: read(cfg["otherTenantSecret"]))
attempt("list-tenant-dir", lambda: listdir(cfg["tenantDir"]))
attempt("dotdot-to-other-tenant", lambda: read(os.path.join(ws, "..", "..", cfg["otherTenantRel"])))
attempt("planted-link-shadow", lambda: read(os.path.join(ws, "link-shadow")))
attempt("planted-link-data-secret", lambda: read(os.path.join(ws, "link-data-secret")))
attempt("planted-link-other-tenant", lambda: read(os.path.join(ws, "link-other-tenant")))
attempt("planted-link-root-dir", lambda: listdir(os.path.join(ws, "link-root")))
attempt("proc-1-root-shadow", lambda: read("/proc/1/root/etc/shadow"))
attempt("proc-self-cwd-dotdot", lambda: read(f"/proc/self/cwd/../../{cfg['otherTenantRel']}"))
attempt("symlink-write-passwd", symlink_write)
attempt("hardlink-passwd", lambda: os.link("/etc/passwd", os.path.join(ws, "tm-hardlink")))
attempt("env-secret", secret_in_env)
attempt("proc-pids", proc_pids)
attempt("fd-leaks", fd_targets)
attempt("kill-root-sentinel", lambda: os.kill(cfg["rootSentinelPid"], signal.SIGKILL))
attempt("kill-uid-sentinel", lambda: os.kill(cfg["uidSentinelPid"], signal.SIGKILL))
attempt("kill-host", lambda: os.kill(cfg["hostPid"], signal.SIGKILL))
attempt("ptrace-attach", lambda: check(libc.ptrace(16, 1, None, None)))  # PTRACE_ATTACH
attempt("process-vm-readv", lambda: check(libc.syscall(310, 1, None, 0, None, 0, 0)))
if not network:
    attempt("tcp-host-listener", lambda: connect_tcp("127.0.0.1", cfg["tcpPort"]))
    attempt("tcp-postgres", lambda: connect_tcp("127.0.0.1", 5432))
    attempt("tcp-internet", lambda: connect_tcp("1.1.1.1", 443))
attempt("unix-socket-stream", lambda: socket_unix(socket.SOCK_STREAM))
attempt("unix-socket-dgram", lambda: socket_unix(socket.SOCK_DGRAM))
attempt("unix-hidden-listener-path", lambda: exists(cfg["unixPath"]))
attempt("unix-hidden-listener", lambda: connect_unix(cfg["unixPath"]))
attempt("unix-listener-in-workspace", lambda: connect_unix(os.path.join(ws, "host.sock")))
attempt("unix-abstract-listener", lambda: connect_unix("\0" + cfg["abstractName"]))
attempt("postgres-socket-path", lambda: exists("/var/run/postgresql/.s.PGSQL.5432"))
attempt("postgres-socket", lambda: connect_unix("/var/run/postgresql/.s.PGSQL.5432"))
attempt("run-dir", lambda: listdir("/run"))
attempt("socketpair-control", socketpair_works)
attempt("io-uring-setup", lambda: check(libc.syscall(425, 8, ctypes.create_string_buffer(120))))
attempt("x32-syscall", lambda: check(libc.syscall(0x40000000 | 39)))
attempt("tiocsti", lambda: fcntl.ioctl(1, 0x5412, b"x"))
attempt("open-dev-tty", lambda: os.close(os.open("/dev/tty", os.O_RDWR)))
attempt("mknod-block-device", lambda: os.mknod("/tmp/tm-sda", stat.S_IFBLK | 0o600, os.makedev(8, 0)))
attempt("open-dev-vda", lambda: read("/dev/vda"))
attempt("open-dev-mem", lambda: read("/dev/mem"))
attempt("list-dev", lambda: listdir("/dev"))
attempt("write-proc-sys", lambda: open_write("/proc/sys/kernel/hostname"))
attempt("write-sysrq-trigger", lambda: open_write("/proc/sysrq-trigger"))
attempt("read-kcore", lambda: read("/proc/kcore"))
attempt("sys-present", lambda: exists("/sys"))
attempt("keyctl", lambda: check(libc.syscall(250, 0, -3, 0)))  # KEYCTL_GET_KEYRING_ID of the user keyring
attempt("bpf", lambda: check(libc.syscall(321, 0, None, 0)))
attempt("userfaultfd", lambda: check(libc.syscall(323, 0)))
attempt("perf-event-open", lambda: check(libc.syscall(298, ctypes.create_string_buffer(128), 0, -1, -1, 0)))
attempt("setuid-binaries", setuid_binary)
attempt("memory-hog", memory_hog)
attempt("file-size-limit", big_file)
attempt("fill-dev-shm", fill_shm)
attempt("tmp-size", tmp_size)
attempt("write-host-tmp", lambda: open_write("/tmp/" + cfg["marker"], os.O_WRONLY | os.O_CREAT))
attempt("write-beside-workspace", lambda: open_write(os.path.join(cfg["tenantDir"], cfg["marker"]), os.O_WRONLY | os.O_CREAT))
attempt("write-workspace", write_workspace)
attempt("kill-all", kill_all)
print("DONE", flush=True)
