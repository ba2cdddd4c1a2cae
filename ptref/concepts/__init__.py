"""The course's core concepts, each a lesson: PyTorch here, its TensorFlow twin in ``compare/concepts/`` (``ptref lesson``)."""
