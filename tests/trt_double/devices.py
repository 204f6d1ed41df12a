"""Simulated GPUs of the test double (stdlib only: the ``nvidia-smi`` shim imports this file too).

``TRTFAQ_DOUBLE_DEVICES`` holds a JSON list of objects with the keys ``name``, ``compute_capability``
(``"9.0"``), ``memory_mib``, ``pci_bus_id`` and optionally ``driver``. Without it there is one device.
The numbers are configuration of the double, not facts about any GPU.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass

ENV_FLAVOUR = "TRTFAQ_TRT_DOUBLE"
ENV_DEVICES = "TRTFAQ_DOUBLE_DEVICES"

#: flavour -> (TensorRT version played, CUDA runtime version cudaRuntimeGetVersion reports, driver string)
FLAVOURS = {
    "10.16": ("10.16.1.11", 12080, "570.195.03"),  # tensorrt-cu12: pairs with a CUDA 12.x runtime
    "11.4": ("11.4.0.106", 13000, "580.95.05"),    # tensorrt-cu13: pairs with a CUDA 13.x runtime
}


@dataclass(frozen=True)
class DeviceSpec:
    name: str = "NVIDIA H100 80GB HBM3"
    compute_capability: str = "9.0"
    memory_mib: int = 81559
    pci_bus_id: str = "00000000:01:00.0"
    driver: str | None = None  # None: the flavour's default

    @property
    def major(self) -> int:
        return int(self.compute_capability.split(".")[0])

    @property
    def minor(self) -> int:
        return int(self.compute_capability.split(".")[1])

    @property
    def total_bytes(self) -> int:
        return self.memory_mib * 1024 * 1024


def _one(obj) -> DeviceSpec:
    if isinstance(obj, DeviceSpec):
        return obj
    if isinstance(obj, (tuple, list)):
        return DeviceSpec(*obj)
    if not isinstance(obj, dict):
        raise TypeError(f"a simulated device is a dict, got {obj!r}")
    keys = {"compute_cap": "compute_capability", "memory_total_mib": "memory_mib", "memory": "memory_mib",
            "pci": "pci_bus_id"}
    fields = {keys.get(k, k): v for k, v in obj.items()}
    unknown = set(fields) - set(DeviceSpec.__dataclass_fields__)
    if unknown:
        raise ValueError(f"unknown simulated-device keys {sorted(unknown)}")
    spec = DeviceSpec(**fields)
    if len(spec.compute_capability.split(".")) != 2:
        raise ValueError(f"compute capability must look like '9.0', got {spec.compute_capability!r}")
    return spec


def parse(devices) -> list[DeviceSpec]:
    """Device specs from None (the default device), a JSON string, or a list of dicts/specs."""
    if devices is None:
        return [DeviceSpec()]
    if isinstance(devices, str):
        devices = json.loads(devices)
    found = [_one(d) for d in devices]
    if not found:
        raise ValueError("the double needs at least one simulated device")
    return found


def from_env(environ=None) -> list[DeviceSpec]:
    environ = os.environ if environ is None else environ
    return parse(environ.get(ENV_DEVICES) or None)


def to_json(devices) -> str:
    return json.dumps([{k: v for k, v in asdict(d).items() if v is not None} for d in parse(devices)])


def driver_of(spec: DeviceSpec, flavour: str | None) -> str:
    return spec.driver or FLAVOURS.get(flavour or "11.4", FLAVOURS["11.4"])[2]
