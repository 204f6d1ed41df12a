"""Chapter 4's GPU evidence: CUDA's device rules measured with cuda-python, CuPy and PyTorch on one or more GPUs
(not TensorRT). Both recorders run on a machine with one GPU and record what one GPU can show; with two or more
they record the multi-GPU part too.

- ``devices`` (``ch04-devices``): the devices as CUDA numbers them and as nvidia-smi does; the device a new
  thread starts on; how ``CUDA_VISIBLE_DEVICES`` (and ``CUDA_DEVICE_ORDER``) hide and renumber devices, each
  value in a fresh subprocess; with two GPUs, work enqueued on a stream of device 1 while device 0 is current
  (raw CUDA through CuPy, and PyTorch's stream context).
- ``throughput`` (``ch04-throughput``): two worker threads each run the same FP16 matrix products, once with
  a per-thread ``torch.cuda.set_device(worker % GPUs)`` and once without (a new thread works on device 0);
  aggregate throughput against the measured one-GPU ceiling.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

from .. import results, timing
from .common import libraries, log

CHAPTER = "notebooks/04-multi-gpu"
N = 8192                 # FP16 GEMM size: about 1.1 TFLOP, a millisecond or two on a data-centre GPU
GEMMS_PER_SAMPLE = 30    # back-to-back products per worker per timed sample
SAMPLES = 6              # timed samples per configuration (after one warm-up sample)
WORKERS = 2              # worker threads in ``throughput`` (two request streams)

# Run in a fresh interpreter per CUDA_VISIBLE_DEVICES value: CUDA reads the variable once, at initialization.
_PROBE = r"""
import json
from cuda.bindings import runtime as rt
err, n = rt.cudaGetDeviceCount()
ok = int(err) == 0
out = {"error": None if ok else rt.cudaGetErrorName(err)[1].decode(), "count": int(n) if ok else 0, "devices": []}
for i in range(out["count"]):
    e, prop = rt.cudaGetDeviceProperties(i)
    name = prop.name.decode() if isinstance(prop.name, bytes) else str(prop.name)
    out["devices"].append({"index": i, "name": name.rstrip("\x00"),
                           "pci_bus_id": f"{prop.pciDomainID:04x}:{prop.pciBusID:02x}:{prop.pciDeviceID:02x}"})
print(json.dumps(out))
"""


def _cudart():
    from cuda.bindings import runtime as rt

    return rt


def _check(result):
    from ..cuda import check

    return check(result)


def _nvidia_smi(env=None) -> list[dict]:
    """nvidia-smi's list of GPUs (index, name, PCI bus id, UUID), run with the environment ``env``."""
    res = subprocess.run(["nvidia-smi", "--query-gpu=index,name,pci.bus_id,uuid", "--format=csv,noheader"],
                         capture_output=True, text=True, env=env, timeout=60)
    rows = []
    for line in res.stdout.strip().splitlines():
        index, name, bus, uuid = (x.strip() for x in line.split(","))
        rows.append({"index": int(index), "name": name, "pci_bus_id": bus, "uuid": uuid})
    return rows


def _probe(value, order=None) -> dict:
    """What a fresh process sees with ``CUDA_VISIBLE_DEVICES=value`` (None: as this process's environment
    has it) and ``CUDA_DEVICE_ORDER=order`` (None: likewise)."""
    env = dict(os.environ)
    if value is not None:
        env["CUDA_VISIBLE_DEVICES"] = value
    if order is not None:
        env["CUDA_DEVICE_ORDER"] = order
    res = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, env=env, timeout=120)
    if res.returncode != 0:
        return {"error": (res.stderr.strip().splitlines() or [f"exit {res.returncode}"])[-1], "count": 0, "devices": []}
    return json.loads(res.stdout.strip().splitlines()[-1])


def _thread_start() -> dict:
    """Set the last device in this thread, then ask a new thread which device it is on (cuda-python)."""
    rt = _cudart()
    count = _check(rt.cudaGetDeviceCount())
    before = _check(rt.cudaGetDevice())
    _check(rt.cudaSetDevice(count - 1))
    seen = {}

    def probe():
        seen["new_thread"] = _check(rt.cudaGetDevice())

    t = threading.Thread(target=probe)
    t.start()
    t.join()
    main = _check(rt.cudaGetDevice())
    _check(rt.cudaSetDevice(before))
    return {"main_thread_set": count - 1, "main_thread_after": main, "new_thread_device": seen["new_thread"]}


def _wrong_stream(count: int) -> dict:
    """With two GPUs: a kernel launched on a stream of device 1 while device 0 is current."""
    if count < 2:
        return {"skipped": "needs two GPUs"}
    out: dict[str, dict] = {}
    try:
        import cupy

        with cupy.cuda.Device(1):
            s1 = cupy.cuda.Stream(non_blocking=True)
        with cupy.cuda.Device(0):
            a = cupy.ones(1 << 20, dtype=cupy.float32)     # on device 0
            try:
                with s1:                                    # CuPy's stream context does not change the device
                    b = a * 2                               # a kernel on device 1's stream, device 0 current
                s1.synchronize()
                out["cupy"] = {"error": None, "result_device": int(b.device.id)}
            except Exception as exc:  # the error is the evidence: record it, whatever it is
                out["cupy"] = {"error": f"{type(exc).__name__}: {exc}"}
    except ImportError:
        out["cupy"] = {"skipped": "CuPy is not installed"}
    try:
        import torch

        torch.cuda.set_device(0)
        s1t = torch.cuda.Stream(device=1)
        with torch.cuda.stream(s1t):
            inside = torch.cuda.current_device()
        out["torch"] = {"current_device_inside_stream_context": inside,
                        "current_device_after": torch.cuda.current_device()}
    except Exception as exc:  # recorded, not hidden
        out["torch"] = {"error": f"{type(exc).__name__}: {exc}"}
    return out


def devices(out):
    """The ``ch04-devices`` recorder (a few seconds: one subprocess per CUDA_VISIBLE_DEVICES value)."""
    rt = _cudart()
    count = _check(rt.cudaGetDeviceCount())
    smi = _nvidia_smi()
    log(f"ch04 devices: {count} CUDA device(s); nvidia-smi lists {len(smi)}")
    values: list[str | None] = [None, "", "0", "1", "1,0", "0,9,1"]
    if smi:
        values.append(smi[-1]["uuid"])
    visible = []
    for value in values:
        found = _probe(value)
        visible.append({"CUDA_VISIBLE_DEVICES": value, **found})
        log(f"ch04 devices: CUDA_VISIBLE_DEVICES={value!r}: {found['count']} device(s) "
            f"{[d['pci_bus_id'] for d in found['devices']]} {found['error'] or ''}")
    orders = [{"CUDA_DEVICE_ORDER": order, **_probe(None, order)} for order in ("FASTEST_FIRST", "PCI_BUS_ID")]
    env_one = {**os.environ, "CUDA_VISIBLE_DEVICES": "1" if count > 1 else "0"}
    data = {"cuda_device_count": count, "nvidia_smi": smi,
            "recorder_environment": {k: os.environ.get(k) for k in ("CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER")},
            "nvidia_smi_with_CUDA_VISIBLE_DEVICES": {"value": env_one["CUDA_VISIBLE_DEVICES"],
                                                     "listed": _nvidia_smi(env_one)},
            "thread_start": _thread_start(), "visible_devices": visible, "device_order": orders,
            "wrong_stream": _wrong_stream(count)}
    log(f"ch04 devices: new thread starts on device {data['thread_start']['new_thread_device']}; "
        f"wrong stream: {data['wrong_stream']}")
    libs = libraries()
    try:
        import cupy

        libs["cupy"] = cupy.__version__
    except ImportError:
        pass
    return results.save(out, "ch04-devices", CHAPTER,
                        "CUDA's device numbering, per-thread current device and CUDA_VISIBLE_DEVICES",
                        "Measured with cuda-python, CuPy and PyTorch on the GPU, not TensorRT",
                        results.provenance("python -m trtfaq record ch04-devices", libs), data)


def _gemm_ceiling(device: int) -> list[float]:
    """Milliseconds per N^3 FP16 product on ``device`` (CUDA events, the book's timer)."""
    import torch

    with torch.cuda.device(device):
        gen = torch.Generator(device="cuda").manual_seed(device)
        x = torch.randn(N, N, device="cuda", dtype=torch.float16, generator=gen)
        y = torch.randn(N, N, device="cuda", dtype=torch.float16, generator=gen)
        return timing.time_cuda(lambda: torch.matmul(x, y), torch.cuda.current_stream().cuda_stream,
                                warmup=5, repeats=30).tolist()


def _workers(set_device: bool, count: int) -> dict:
    """``WORKERS`` threads, each running ``GEMMS_PER_SAMPLE`` products per sample on the device it is on.

    With ``set_device`` worker ``w`` first calls ``torch.cuda.set_device(w % count)``; without, it creates its
    tensors on ``"cuda"``, the current device of a new thread. Wall-clock time of all workers per sample (after
    one warm-up sample), and each worker's CUDA-event time on its own stream."""
    import torch

    barrier = threading.Barrier(WORKERS + 1)
    report: list[dict] = [{} for _ in range(WORKERS)]
    failures: list[str] = []

    def work(w):
        try:
            report[w]["start_device"] = torch.cuda.current_device()
            if set_device:
                torch.cuda.set_device(w % count)
            gen = torch.Generator(device="cuda").manual_seed(10 + w)
            x = torch.randn(N, N, device="cuda", dtype=torch.float16, generator=gen)
            y = torch.randn(N, N, device="cuda", dtype=torch.float16, generator=gen)
            report[w]["device"] = x.device.index
            stream = torch.cuda.Stream()
            times = []
            for sample in range(SAMPLES + 1):
                barrier.wait()
                with torch.cuda.stream(stream):
                    a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                    a.record()
                    for _ in range(GEMMS_PER_SAMPLE):
                        torch.matmul(x, y)
                    b.record()
                stream.synchronize()
                if sample:
                    times.append(a.elapsed_time(b))
                barrier.wait()
            report[w]["samples_ms"] = times
        except BaseException as exc:
            failures.append(f"worker {w}: {type(exc).__name__}: {exc}")
            barrier.abort()

    threads = [threading.Thread(target=work, args=(w,)) for w in range(WORKERS)]
    for t in threads:
        t.start()
    wall = []
    try:
        for sample in range(SAMPLES + 1):
            barrier.wait()
            t0 = time.perf_counter()
            barrier.wait()  # every worker synchronized its stream
            if sample:
                wall.append(1000 * (time.perf_counter() - t0))
    except threading.BrokenBarrierError:
        pass
    for t in threads:
        t.join()
    if failures:
        raise RuntimeError("; ".join(failures))
    return {"set_device": set_device, "workers": report, "samples_ms": wall}


def throughput(out):
    """The ``ch04-throughput`` recorder (about ten seconds on H100s)."""
    import torch

    count = torch.cuda.device_count()
    gpus = [{"index": i, "name": torch.cuda.get_device_name(i)} for i in range(count)]
    ceiling = [{"device": i, "samples_ms": _gemm_ceiling(i)} for i in range(count)]
    for c in ceiling:
        log(f"ch04 throughput: device {c['device']} one FP16 {N}^3 product {timing.summarize(c['samples_ms'])}")
    configs = []
    for set_device in (True, False):
        run = _workers(set_device, count)
        configs.append(run)
        log(f"ch04 throughput: set_device={set_device}: devices {[w['device'] for w in run['workers']]}, "
            f"wall {timing.summarize(run['samples_ms'])}")
    torch.cuda.synchronize()
    data = {"gemm": {"n": N, "dtype": "float16", "flops": 2 * N ** 3, "per_worker_per_sample": GEMMS_PER_SAMPLE},
            "gpus": gpus, "workers": WORKERS, "ceiling": ceiling, "configs": configs,
            "timer": {"ceiling": "CUDA events, warm-up 5, 30 repeats", "configs": f"wall clock over all workers, "
                      f"{SAMPLES} samples after one warm-up sample; per-worker CUDA events"}}
    return results.save(out, "ch04-throughput", CHAPTER,
                        "Two worker threads' FP16 matrix products, with and without a per-thread set_device",
                        "Measured with PyTorch (cuBLAS) on the GPU, not TensorRT",
                        results.provenance("python -m trtfaq record ch04-throughput", libraries()), data)


def pool(out):
    """The ``ch04-pool`` recorder: the engine pool's own device plumbing on every GPU, without TensorRT.

    One worker thread per device does what ``trtfaq.pool.EnginePool`` does before any TensorRT call:
    ``pool.use_device(i)`` (cuda-python's ``cudaSetDevice``), then reads ``pool.device_info(i)`` and the
    engine cache's key for that device, and runs a PyTorch matrix product inside the block to see which
    GPU the work lands on. A plan stand-in (random bytes, not a TensorRT plan) is stored in a temporary
    engine cache under each device's key: one entry per device."""
    import tempfile

    import torch

    from .. import pool as engine_pool
    from ..cache import EngineCache, engine_key
    from ..engine import BuildConfig

    count = engine_pool.device_count()
    model = b"onnx model bytes stand-in"
    rows, errors = [None] * count, []

    def worker(i: int) -> None:
        try:
            with engine_pool.use_device(i):
                info = engine_pool.device_info(i)
                x = torch.randn(1024, 1024, device="cuda", dtype=torch.float16)
                y = x @ x
                torch.cuda.synchronize()
                rows[i] = {"pool_device": i, "torch_current_device": torch.cuda.current_device(),
                           "work_landed_on": y.device.index, "name": info.name, "pci_bus_id": info.pci_bus_id,
                           "cache_key_device": info.key,
                           "plan_cache_key": engine_key(model, BuildConfig().as_key(), "stand-in", info.key)}
        except Exception as exc:  # recorded, not hidden
            errors.append(f"device {i}: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with tempfile.TemporaryDirectory() as tmp:
        cache = EngineCache(tmp)
        for r in rows:
            if r is not None:
                cache.store(r["plan_cache_key"], os.urandom(64), {"device": r["cache_key_device"]})
        entries = sorted(p.name for p in cache.root.glob("*.plan"))
    for r in rows:
        log(f"ch04 pool: {r}")
    data = {"devices": count, "workers": rows, "errors": errors, "cache_entries": entries,
            "note": "the pool's device handling and plan-cache keys with PyTorch work and a random plan stand-in; "
                    "no TensorRT engine is built or run"}
    return results.save(out, "ch04-pool", CHAPTER,
                        "The engine pool's per-device plumbing on every GPU (no TensorRT)",
                        "Measured with cuda-python and PyTorch on the GPU, not TensorRT",
                        results.provenance("python -m trtfaq record ch04-pool", libraries()), data)
