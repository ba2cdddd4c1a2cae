"""The course's core concepts, each a lesson (``ptref lesson``): PyTorch here, its TensorFlow twin in
``compare/concepts/``."""
