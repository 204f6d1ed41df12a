"""Code used by one chapter only, one module per chapter topic (named after the FAQ question).

| module | chapter |
|---|---|
| ``batch_profiles`` | 1. optimization profiles: recorded runs read back, tables and figures |
| ``versions`` | 5. reading the TensorRT version: encodings, library files |
| ``wrong_answers`` | 6. wrong answers: digits data, misbehaving models, metrics, Polygraphy CLI |
| ``batch_norm`` | 7. batch norm with elementwise layers |
| ``gallery`` | the results gallery: the timer check read back |

A new chapter's helpers go in a new module here. When a second chapter needs a helper, it moves to
the general modules of :mod:`trtfaq` (``models``, ``precision``, ``plots``, ...).
"""
