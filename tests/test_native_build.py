"""Portable native builds (issue 26): llama-cpp-python is compiled for the CPU features the machine
lists, every instruction-set switch explicit and never ``-march=native``, AMX only where a probe
runs it, and the wheel kept under a key of its switches (a wheel built for one feature set is
never installed on another). The last test checks the build ``scripts/install.sh`` made here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "plugins"))
from alexbench_llm import cpubuild  # noqa: E402

#: /proc/cpuinfo flag lines of three CPUs: a Sapphire Rapids VM (AMX listed), an AVX2-only EPYC,
#: and an old AVX-only one.
SAPPHIRE = ("flags\t\t: fpu sse4_2 avx avx2 fma f16c bmi2 avx512f avx512cd avx512vl avx512dq avx512bw avx512vbmi "
            "avx512_vnni avx512_bf16 avx_vnni amx_tile amx_int8 amx_bf16")
EPYC = "model name\t: AMD EPYC\nflags\t\t: fpu sse4_2 avx avx2 fma f16c bmi2"
OLD = "flags\t\t: fpu sse4_2 avx"
ALL_SWITCHES = {"GGML_NATIVE", "LLAVA_BUILD", *(s for s, _ in cpubuild.X86_SWITCHES), *cpubuild.AMX_SWITCHES}


def plan_for(cpuinfo: str, *, machine: str = "x86_64", environ: dict[str, str] | None = None) -> cpubuild.BuildPlan:
    return cpubuild.cmake_args(cpubuild.cpu_flags(cpuinfo), machine=machine, probe=False, environ=environ or {})


def switches(plan: cpubuild.BuildPlan) -> dict[str, str]:
    return {arg[2:].split("=")[0]: arg.split("=")[1] for arg in plan.args}


ALL = {cpubuild.PROFILE_ENV: "all"}


def test_every_switch_is_given_and_follows_what_the_cpu_lists() -> None:
    for info in (SAPPHIRE, EPYC, OLD):
        for environ in ({}, ALL):
            got = switches(plan_for(info, environ=environ))
            # Explicit, on or off: with GGML_NATIVE off llama.cpp would turn AVX2/FMA/F16C/BMI2 on by itself.
            assert set(got) == ALL_SWITCHES and got["GGML_NATIVE"] == "OFF"
            assert "-march=native" not in " ".join(plan_for(info, environ=environ).args)
    old, epyc = switches(plan_for(OLD)), switches(plan_for(EPYC))
    assert (old["GGML_AVX"], old["GGML_AVX2"], old["GGML_FMA"], old["GGML_F16C"]) == ("ON", "OFF", "OFF", "OFF")
    assert (epyc["GGML_AVX2"], epyc["GGML_FMA"], epyc["GGML_AVX512"]) == ("ON", "ON", "OFF")
    assert plan_for(EPYC).flags_used == ("sse4_2", "avx", "avx2", "bmi2", "fma", "f16c")
    sapphire_all = switches(plan_for(SAPPHIRE, environ=ALL))
    assert all(sapphire_all[s] == "ON" for s in ("GGML_AVX512", "GGML_AVX512_VNNI", "GGML_AVX512_BF16", "GGML_AVX_VNNI"))


def test_the_portable_profile_builds_the_same_kernels_on_every_avx2_cpu() -> None:
    """The default: the x86-64-v3 switches wherever the CPU lists them, nothing beyond, so an
    AVX-512 (or AMX) machine runs the AVX2 machine's kernels and the judge gives the same numbers."""
    sapphire, epyc = plan_for(SAPPHIRE), plan_for(EPYC)
    assert sapphire.profile == "portable" and sapphire.args == epyc.args
    assert cpubuild.switches_on(sapphire.args) == ["GGML_SSE42", "GGML_AVX", "GGML_AVX2", "GGML_BMI2", "GGML_FMA",
                                                   "GGML_F16C"]
    with pytest.raises(SystemExit, match="expected one of portable, all"):
        plan_for(EPYC, environ={cpubuild.PROFILE_ENV: "fastest"})


def test_amx_is_off_unless_the_probe_runs_it() -> None:
    """The CPU of issue 26 lists AMX, yet its kernels faulted: listing is not enough."""
    assert all(switches(plan_for(SAPPHIRE))[s] == "OFF" for s in cpubuild.AMX_SWITCHES)
    assert "not in the portable profile" in plan_for(SAPPHIRE).amx.reason
    sapphire = plan_for(SAPPHIRE, environ=ALL)
    assert all(switches(sapphire)[s] == "OFF" for s in cpubuild.AMX_SWITCHES)
    assert sapphire.amx == cpubuild.ProbeResult(False, "not probed")
    assert "does not list amx_tile" in plan_for(EPYC, environ=ALL).amx.reason
    no_vnni = SAPPHIRE.replace(" avx512_vnni", "")
    assert "need AVX512-VNNI" in plan_for(no_vnni, environ=ALL).amx.reason
    assert cpubuild.probe_outcome(0).ok
    assert cpubuild.probe_outcome(-4) == cpubuild.ProbeResult(False, "the AMX probe died with SIGILL (Illegal instruction)")
    assert not cpubuild.probe_outcome(-11).ok and "refused" in cpubuild.probe_outcome(3).reason


def test_the_amx_probe_runs_in_a_child_here() -> None:
    """The real probe, compiled and run on this machine: on a CPU (or a VM) without usable AMX it
    fails as a result, never as a crash of this process."""
    result = cpubuild.run_amx_probe()
    listed = all(f in cpubuild.cpu_flags() for f in cpubuild.AMX_FLAGS)
    if not listed:
        assert not result.ok
    assert result.reason.startswith(("the AMX probe", "the kernel refused", "the compiler cannot", "no C compiler"))


def test_other_architectures_get_the_compilers_generic_target() -> None:
    plan = plan_for("Features\t: fp asimd", machine="aarch64")
    assert plan.args == cpubuild.FIXED_ARGS and plan.amx is None


def test_a_user_can_turn_a_switch_off_or_give_every_argument() -> None:
    extra = plan_for(SAPPHIRE, environ={**ALL, cpubuild.EXTRA_ARGS_ENV: "-DGGML_AVX512=OFF"})
    assert extra.args[-1] == "-DGGML_AVX512=OFF" and "GGML_AVX512" not in cpubuild.switches_on(extra.args)
    only = plan_for(SAPPHIRE, environ={cpubuild.REPLACE_ARGS_ENV: "-DGGML_NATIVE=OFF -DGGML_AVX=OFF"})
    assert only.args == ("-DGGML_NATIVE=OFF", "-DGGML_AVX=OFF") and cpubuild.REPLACE_ARGS_ENV in only.overridden


def test_a_wheel_built_for_one_feature_set_is_never_another_ones() -> None:
    keys = {cpubuild.build_key("0.3.36", plan_for(info, environ=environ), "gcc 12")
            for info in (SAPPHIRE, EPYC, OLD) for environ in ({}, ALL)}
    assert len(keys) == 3  # the same switches are the same wheel: portable on both AVX2 CPUs, and all on EPYC
    assert cpubuild.build_key("0.3.36", plan_for(EPYC), "gcc 12") == cpubuild.build_key("0.3.36", plan_for(EPYC), "gcc 12")
    assert cpubuild.build_key("0.3.37", plan_for(EPYC), "gcc 12") != cpubuild.build_key("0.3.36", plan_for(EPYC), "gcc 12")
    assert cpubuild.build_key("0.3.36", plan_for(EPYC), "gcc 13") != cpubuild.build_key("0.3.36", plan_for(EPYC), "gcc 12")


def test_the_pin_is_read_from_the_constraints(tmp_path) -> None:
    pins = tmp_path / "constraints.txt"
    pins.write_text("# a comment\nllama-cpp-python==0.3.36  # built from source\nnumpy==2.4.6\n")
    assert cpubuild.pinned_version(pins) == "0.3.36"
    assert cpubuild.pinned_version(REPO / "requirements" / "constraints.txt") == "0.3.36"
    with pytest.raises(SystemExit):
        cpubuild.pinned_version(tmp_path / "constraints.txt", "not-pinned")


def test_the_installed_build_is_this_machines() -> None:
    """What scripts/install.sh built here: recorded beside the package, the library unchanged
    since, native off, no switch on that this CPU does not list, and the key a rerun of the install
    computes (so it would install nothing new). llama.cpp's own system info agrees."""
    pkg = cpubuild.package_dir()
    record = cpubuild.read_record(pkg)
    assert record is not None, "llama-cpp-python was not installed by scripts/install.sh"
    assert cpubuild.record_matches(record, pkg) == ""
    args = list(record["cmake_args"])
    assert "-DGGML_NATIVE=OFF" in args
    needs = dict(cpubuild.X86_SWITCHES) | {s: cpubuild.AMX_FLAGS for s in cpubuild.AMX_SWITCHES}
    flags = cpubuild.cpu_flags()
    assert all(f in flags for switch in cpubuild.switches_on(args) for f in needs.get(switch, ()))
    plan = json.loads(subprocess.run([sys.executable, str(REPO / "plugins" / "alexbench_llm" / "cpubuild.py"), "plan",
                                      "--constraints", str(REPO / "requirements" / "constraints.txt")],
                                     capture_output=True, text=True, check=True).stdout)
    assert plan["key"] == record["key"] and plan["cmake_args"] == args
    installed = subprocess.run([sys.executable, str(REPO / "plugins" / "alexbench_llm" / "cpubuild.py"), "installed",
                                "--key", plan["key"]], check=False)
    assert installed.returncode == 0
    info = subprocess.run([sys.executable, "-c", "import llama_cpp; print(llama_cpp.llama_print_system_info().decode())"],
                          capture_output=True, text=True, check=True).stdout
    if cpubuild.is_x86():
        assert ("AVX2 = 1" in info) == ("GGML_AVX2" in cpubuild.switches_on(args))
        assert "AMX_INT8 = 1" not in info or "GGML_AMX_INT8" in cpubuild.switches_on(args)
