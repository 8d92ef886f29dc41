# SPDX-License-Identifier: MIT
"""make install (PREFIX, DESTDIR) and libdhp as a program outside the tree
uses it: `make install DESTDIR=$tmp PREFIX=/usr`, then the files where they
belong, the library's exports (dhp_* at DHP_0.1 and nothing else, in the
shared and the static library), pkg-config with the DESTDIR as sysroot, a
small C program and a C++ one compiled with `pkg-config --cflags --libs dhp`
and run, a static one with --static, the man page, make uninstall.
Usage: python3 tests/t1410-install.py BUILD_DIR"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dhptest import ROOT, Results, Skip, check  # noqa: E402

results = Results()
build = sys.argv[1] if len(sys.argv) > 1 else "build"
tmp = tempfile.mkdtemp(prefix="t1410-")
dest = os.path.join(tmp, "dest")
usr = os.path.join(dest, "usr")


def run(cmd, env=None, timeout=600, **kw):
    full = dict(os.environ)
    full.update(env or {})
    p = subprocess.run(cmd, cwd=kw.pop("cwd", ROOT), env=full, timeout=timeout,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    if p.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s" % (" ".join(cmd), p.returncode,
                                                      p.stdout[-3000:]))
    return p.stdout


def sanitizers():
    """The sanitizers the library was built with: a program linking it
    must be built with them too (their runtime comes first)."""
    out = run(["readelf", "-d", os.path.join(build, "libdhp.so.0")])
    san = []
    if "libasan" in out:
        san.append("address")
    if "libubsan" in out:
        san.append("undefined")
    return ",".join(san)


SAN = ""


def make(*targets):
    args = ["make", "--no-print-directory", "BUILD=" + build, "DESTDIR=" + dest, "PREFIX=/usr"]
    if SAN:
        args.append("SANITIZE=" + SAN)
    # A parent make's jobserver and flags are not ours.
    return run(args + list(targets), env={"MAKEFLAGS": "", "MFLAGS": ""})


def test_install():
    global SAN
    if not os.path.exists(os.path.join(build, "libdhp.so.0")):
        raise Skip("%s/libdhp.so.0 is not built" % build)
    SAN = sanitizers()
    make("install")
    for rel in ["include/dhp/dhp.h", "lib/libdhp.so.0", "lib/libdhp.a",
                "lib/pkgconfig/dhp.pc", "share/man/man3/libdhp.3",
                "share/doc/dhp/README.md", "share/doc/dhp/libdhp.md"]:
        check(os.path.isfile(os.path.join(usr, rel)), "not installed: /usr/" + rel)
    check(os.readlink(os.path.join(usr, "lib/libdhp.so")) == "libdhp.so.0", "libdhp.so link")
    for prog, where in [("dhpctl", "bin"), ("dhpd", "sbin"), ("dhp-agent", "sbin")]:
        if os.path.exists(os.path.join(build, prog)):
            path = os.path.join(usr, where, prog)
            check(os.access(path, os.X_OK), "not installed: /usr/%s/%s" % (where, prog))
    pc = open(os.path.join(usr, "lib/pkgconfig/dhp.pc")).read()
    check("prefix=/usr\n" in pc and "libdir=/usr/lib\n" in pc, pc)
    # Nothing outside DESTDIR/usr.
    check(sorted(os.listdir(dest)) == ["usr"], str(os.listdir(dest)))


def test_exports():
    lib = os.path.join(usr, "lib")
    out = run(["readelf", "-d", os.path.join(lib, "libdhp.so.0")])
    check(re.search(r"SONAME.*\[libdhp\.so\.0\]", out), "soname: " + out)
    syms = run(["nm", "-D", "--defined-only", os.path.join(lib, "libdhp.so.0")]).split("\n")
    names = [line.split()[-1] for line in syms if line.strip()]
    check("DHP_0.1" in names, "no version node DHP_0.1")
    exported = [n for n in names if n != "DHP_0.1"]
    bad = [n for n in exported if not re.match(r"dhp_[a-z_]+@@DHP_0\.1$", n)]
    check(not bad, "exported besides dhp_*@@DHP_0.1: %s" % bad)
    # Every function of the header, and no more.
    header = open(os.path.join(usr, "include/dhp/dhp.h")).read()
    declared = set(re.findall(r"^DHP_PUBLIC [^(]*?\b(dhp_[a-z_]+)\(", header, re.M))
    check(declared == {n.split("@")[0] for n in exported},
          "header %s vs library %s" % (sorted(declared), sorted(exported)))
    # The static library: the protocol's code inside is local too.
    out = run(["nm", "-g", "--defined-only", os.path.join(lib, "libdhp.a")])
    globs = [line.split()[-1] for line in out.split("\n") if re.match(r"^[0-9a-f]+ [A-Z] ", line)]
    check(globs and all(n.startswith("dhp_") and not n.startswith("dhp_proto")
                        and not n.startswith("dhp_error") for n in globs),
          "libdhp.a exports %s" % globs)


PROGRAM = r"""
#include <dhp/dhp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static int on_change(const struct dhp_change *c, char *reason, size_t size, void *data)
{
	(void)reason; (void)size;
	if (c->flags & DHP_CHANGE_EXISTING)
		++*(int *)data;
	return 0;
}

int main(void)
{
	struct dhp *dhp;
	struct dhp_registration *reg;
	uint32_t max = 0, count = 0;
	uint64_t *mask, bytes = 0;
	int existing = 0, r;

	if ((r = dhp_open(&dhp, "tiny", 0)) < 0) {
		fprintf(stderr, "dhp_open: %d\n", r);
		return 1;
	}
	if (dhp_cpus_possible(dhp, &max) < 0 || !max)
		return 2;
	mask = (uint64_t *)calloc((max + 63) / 64, sizeof(*mask));
	if (dhp_cpus_online(dhp, mask, (max + 63) / 64, &count) < 0)
		return 3;
	if (dhp_memory_size(dhp, &bytes) < 0)
		return 4;
	if (dhp_register(dhp, DHP_KIND_PROCESSOR, DHP_REGISTER_ADD_EXISTING, on_change,
			 &existing, &reg) < 0)
		return 5;
	if (dhp_dispatch(dhp) < 0)
		return 6;
	printf("transport=%s possible=%u online=%u existing=%d memory=%llu\n",
	       dhp_transport_name((uint32_t)dhp_transport(dhp)), max, count, existing,
	       (unsigned long long)bytes);
	dhp_unregister(reg);
	dhp_close(dhp);
	free(mask);
	return 0;
}
"""


def pkg_env():
    return {"PKG_CONFIG_PATH": os.path.join(usr, "lib", "pkgconfig"),
            "PKG_CONFIG_SYSROOT_DIR": dest}


def online_cpus():
    n = 0
    for part in open("/sys/devices/system/cpu/online").read().strip().split(","):
        a, _, b = part.partition("-")
        n += int(b or a) - int(a) + 1
    return n


def check_output(out):
    m = re.match(r"transport=(\w+) possible=(\d+) online=(\d+) existing=(\d+) memory=(\d+)$",
                 out.strip())
    check(m, "output: " + out)
    check(m.group(1) in ("uevent", "none"), out)
    check(int(m.group(3)) == online_cpus() == int(m.group(4)), out)
    check(int(m.group(2)) >= int(m.group(3)) and int(m.group(5)) > 0, out)


def compile_and_run(compiler, src_name, extra=(), static=False):
    flags = run(["pkg-config", "--cflags", "--libs"] + (["--static"] if static else [])
                + ["dhp"], env=pkg_env()).split()
    src = os.path.join(tmp, src_name)
    with open(src, "w") as f:
        f.write(PROGRAM)
    exe = src + ".bin"
    san = ["-fsanitize=" + SAN] if SAN else []
    run([compiler, "-Wall", "-Wextra", "-Werror"] + list(extra) + san + ["-o", exe, src]
        + flags + (["-static"] if static else []))
    env = {"DHP_AGENT_SOCKET": os.path.join(tmp, "no-agent.sock")}
    if not static:
        env["LD_LIBRARY_PATH"] = os.path.join(usr, "lib")
    check_output(run([exe], env=env, timeout=60))


def test_pkg_config():
    out = run(["pkg-config", "--cflags", "--libs", "dhp"], env=pkg_env())
    check("-I%s/usr/include" % dest in out, out)
    check("-L%s/usr/lib" % dest in out and "-ldhp" in out, out)
    check(run(["pkg-config", "--modversion", "dhp"], env=pkg_env()).strip() == "0.1.0")
    static = run(["pkg-config", "--static", "--libs", "dhp"], env=pkg_env())
    check("-ljansson" in static, static)


def test_program():
    compile_and_run("cc", "tiny.c", ["-std=c99", "-pedantic"])


def test_program_cxx():
    if not shutil.which("c++"):
        raise Skip("no C++ compiler")
    compile_and_run("c++", "tiny.cc", ["-x", "c++", "-std=c++11"])


def test_program_static():
    if SAN:
        raise Skip("sanitizer runtimes cannot be linked statically")
    compile_and_run("cc", "tiny-static.c", ["-std=c99"], static=True)


def test_man_page():
    page = os.path.join(usr, "share/man/man3/libdhp.3")
    text = open(page).read()
    check(text.startswith(".TH LIBDHP 3") or ".TH LIBDHP 3" in text, "no .TH")
    header = open(os.path.join(usr, "include/dhp/dhp.h")).read()
    for fn in re.findall(r"^DHP_PUBLIC [^(]*?\b(dhp_[a-z_]+)\(", header, re.M):
        check(re.search(r"\b%s\b" % fn.replace("_", r"\\?_"), text), "%s not in the man page" % fn)
    if shutil.which("groff"):
        out = run(["groff", "-t", "-man", "-Tutf8", "-ww", "-z", page])
        check("warning" not in out, out)


def test_uninstall():
    make("uninstall")
    left = []
    for root, _, files in os.walk(dest):
        left += [os.path.join(root, f) for f in files]
    check(not left, "left after uninstall: %s" % left)


try:
    results.case("install", test_install)
    if os.path.exists(os.path.join(usr, "lib", "libdhp.so.0")):
        results.case("exports", test_exports)
        results.case("pkg-config", test_pkg_config)
        results.case("program", test_program)
        results.case("program-c++", test_program_cxx)
        results.case("program-static", test_program_static)
        results.case("man-page", test_man_page)
        results.case("uninstall", test_uninstall)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
results.done()
