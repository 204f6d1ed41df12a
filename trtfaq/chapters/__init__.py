"""Code used by one chapter only, one module per chapter topic (named after the FAQ question).

| module | chapter |
|---|---|
| ``batch_profiles`` | 1. optimization profiles: recorded runs read back, tables and figures |
| ``portability`` | 2. portability: plan-header reader, the runtimes' messages, calibration caches to Q/DQ |
| ``workspace`` | 3. workspace and memory pools: pool docstrings, build-log reader, recorded cuBLAS runs |
| ``multi_gpu`` | 4. several GPUs: per-device plan keys, recorded device and throughput runs read back |
| ``versions`` | 5. reading the TensorRT version: encodings, library files |
| ``wrong_answers`` | 6. wrong answers: digits data, misbehaving models, metrics, Polygraphy CLI |
| ``batch_norm`` | 7. batch norm with elementwise layers |
| ``dla`` | 8. DLA: the documented DLA rules applied to an ONNX model, partitions and reformats |
| ``builders`` | 11. several builders: the recorded tactic-timing run read back |
| ``tensor_cores`` | 12. tensor cores: channel alignment, inspector tables, recorded GEMM/conv/ncu runs |
| ``gallery`` | the results gallery: the timer check read back |

A new chapter's helpers go in a new module here. When a second chapter needs a helper, it moves to
the general modules of :mod:`trtfaq` (``models``, ``precision``, ``plots``, ...).
"""
