"""The parity suite: the course's TensorFlow/Keras side, checked against ptref with :mod:`ptref.parity`.

``pytest compare/`` asserts; ``python -m compare --out DIR`` writes the course's report (:mod:`compare.__main__`).
"""
