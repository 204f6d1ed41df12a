"""The engine module's TensorRT-free parts: feed checks, dtype mapping, cache keys, the plan cache.
(Its TensorRT calls are checked against the real bindings by the API checker.)"""
import json

import numpy as np
import pytest

from trtfaq import engine
from trtfaq.cache import EngineCache, engine_key
from trtfaq.errors import CacheError, InputError, TensorRTUnavailable

from helpers import one_line

SPECS = [
    engine.TensorSpec("x", True, np.dtype(np.float32), (-1, 3, 8, 8),
                      profiles=(((1, 3, 8, 8), (4, 3, 8, 8), (8, 3, 8, 8)),
                                ((9, 3, 8, 8), (32, 3, 8, 8), (64, 3, 8, 8)))),
    engine.TensorSpec("y", False, np.dtype(np.float32), (-1, 3, 8, 8)),
]


def x(n, dtype=np.float32, shape=(3, 8, 8)):
    return np.zeros((n, *shape), dtype)


def test_good_feeds_pass():
    engine.check_feeds(SPECS, {"x": x(8)}, profile=0)
    engine.check_feeds(SPECS, {"x": x(48)}, profile=1)


@pytest.mark.parametrize("feeds, profile, message", [
    ({"image": x(1)}, 0, "engine inputs are ['x'], got ['image']"),
    ({"x": x(1, np.float16)}, 0, "input 'x' must be float32, got float16"),
    ({"x": x(1, shape=(3, 8))}, 0, "input 'x' must have shape (-1, 3, 8, 8) (-1 = any), got (1, 3, 8)"),
    ({"x": x(1, shape=(4, 8, 8))}, 0, "must have shape (-1, 3, 8, 8)"),
    ({"x": x(9)}, 0, "input 'x' shape (9, 3, 8, 8) is outside profile 0 [min (1, 3, 8, 8), max (8, 3, 8, 8)]"),
    ({"x": x(65)}, 1, "is outside profile 1"),
    ({"x": x(2)}, 2, "profile 2 does not exist: the engine has 2"),
])
def test_bad_feeds_are_refused_before_tensorrt(feeds, profile, message):
    with pytest.raises(InputError) as e:
        engine.check_feeds(SPECS, feeds, profile)
    assert message in one_line(e)


@pytest.mark.parametrize("profiles, message", [
    (({"x": ((1, 3), (4, 3), (2, 3))},), "need min <= opt <= max"),
    (({"x": ((1, 3), (4, 3, 1), (8, 3))},), "min, opt, max must have one rank"),
])
def test_bad_profiles_are_one_line_errors(profiles, message):
    with pytest.raises(InputError) as e:
        engine.check_profile_shapes(profiles)
    assert message in one_line(e)


def test_dtype_mapping():
    assert engine.numpy_dtype("FLOAT") == np.float32
    assert engine.numpy_dtype("DataType.HALF") == np.float16
    assert engine.numpy_dtype("INT64") == np.int64
    with pytest.raises(InputError) as e:
        engine.numpy_dtype("BF16")
    assert "TensorRT type BF16 has no numpy equivalent" in one_line(e)


def test_cache_key_depends_on_every_part():
    cfg = engine.BuildConfig(workspace_bytes=1 << 28)
    base = engine_key(b"model", cfg.as_key(), "10.16.1.11", "NVIDIA H100 sm9.0")
    assert base == engine_key(b"model", engine.BuildConfig(workspace_bytes=1 << 28).as_key(), "10.16.1.11",
                                    "NVIDIA H100 sm9.0")
    others = [engine_key(b"model2", cfg.as_key(), "10.16.1.11", "NVIDIA H100 sm9.0"),
              engine_key(b"model", cfg.as_key(), "11.4.0.106", "NVIDIA H100 sm9.0"),
              engine_key(b"model", cfg.as_key(), "10.16.1.11", "NVIDIA L4 sm8.9"),
              engine_key(b"model", engine.BuildConfig(workspace_bytes=1 << 29).as_key(), "10.16.1.11",
                               "NVIDIA H100 sm9.0"),
              engine_key(b"model", engine.BuildConfig(workspace_bytes=1 << 28, tf32=False).as_key(), "10.16.1.11",
                               "NVIDIA H100 sm9.0"),
              engine_key(b"model", cfg.as_key(), "10.16.1.11", "NVIDIA H100 sm90 pci 0000:1b:00")]
    assert len({base, *others}) == 7


def test_plan_cache_round_trip_and_absence(tmp_path):
    cache = EngineCache(tmp_path)
    assert cache.load("k1") is None
    cache.store("k1", b"plan-bytes", {"tensorrt": "11.4.0.106"})
    assert cache.load("k1") == b"plan-bytes"


def test_corrupt_plan_is_a_one_line_error(tmp_path):
    cache = EngineCache(tmp_path)
    cache.store("k1", b"plan-bytes", {})
    cache.paths("k1")[0].write_bytes(b"plan-bytez")
    with pytest.raises(CacheError) as e:
        cache.load("k1")
    assert one_line(e) == "engine cache entry k1 is corrupt (sha256 mismatch): delete k1.plan"


def test_unreadable_or_foreign_metadata_is_a_one_line_error(tmp_path):
    cache = EngineCache(tmp_path)
    cache.store("k1", b"plan", {})
    plan_path, meta_path = cache.paths("k1")
    meta_path.write_text("{not json")
    with pytest.raises(CacheError) as e:
        cache.load("k1")
    assert "is unreadable (JSONDecodeError)" in one_line(e)
    meta_path.write_text(json.dumps({"key": "k2", "plan_sha256": ""}))
    with pytest.raises(CacheError) as e:
        cache.load("k1")
    assert "belongs to another key" in one_line(e)
    meta_path.unlink()
    with pytest.raises(CacheError) as e:
        cache.load("k1")
    assert "is unreadable (FileNotFoundError)" in one_line(e)


def test_building_without_tensorrt_is_a_one_line_error(fresh_env, monkeypatch):
    monkeypatch.setattr(fresh_env.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(TensorRTUnavailable) as e:
        engine.build_serialized(b"onnx")
    one_line(e)
    with pytest.raises(TensorRTUnavailable):
        engine.Engine(b"plan")


def test_profiles_are_checked_before_tensorrt_is_needed(fresh_env, monkeypatch):
    monkeypatch.setattr(fresh_env.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(InputError):  # refused when the config is made, long before TensorRT
        engine.build_serialized(b"onnx", engine.BuildConfig(profiles=({"x": ((8, 3), (4, 3), (1, 3))},)))


BUCKETS = ({"x": ((1, 8), (4, 8), (16, 8))}, {"x": ((17, 8), (64, 8), (128, 8))})


@pytest.mark.parametrize("n, index", [(1, 0), (16, 0), (17, 1), (128, 1)])
def test_profile_for_picks_the_bucket(n, index):
    assert engine.profile_for(BUCKETS, {"x": (n, 8)}) == index


@pytest.mark.parametrize("shape", [(129, 8), (0, 8), (4, 9), (4, 8, 1)])
def test_profile_for_refuses_shapes_outside_every_profile(shape):
    with pytest.raises(InputError) as e:
        engine.profile_for(BUCKETS, {"x": shape})
    assert "is outside every optimization profile (x (1, 8)..(16, 8); x (17, 8)..(128, 8))" in one_line(e)
