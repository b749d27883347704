"""What the CPU offers, as lib/cpu_features.c decides it on x86, for checks
whose expected answer depends on it (a bf16 model is refused on a CPU
without native bf16)."""


def cpu_has_bf16():
    """Native bf16 arithmetic: avx512_bf16 or amx_bf16 in /proc/cpuinfo."""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                flags = line.split(":", 1)[1].split()
                return "avx512_bf16" in flags or "amx_bf16" in flags
    return False
