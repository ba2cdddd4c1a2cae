"""Sparse tensors: COO and CSR, sparsity, sparse × dense matmul, memory saved.

A sparse tensor stores only its nonzeros. sparsity = 1 − nnz/numel. TensorFlow has one sparse type,
``tf.sparse.SparseTensor`` (COO); PyTorch has COO and CSR (compressed rows) layouts, among others.
TensorFlow twin: ``compare/concepts/sparse_tf.py``.
"""

from __future__ import annotations

import torch


def example_matrix() -> torch.Tensor:
    """The 3×4 matrix [[0, 1, 0, 0], [2, 0, 0, 0], [3, 0, 0, 4]] in COO form (4 nonzeros of 12)."""
    # one row of indices per axis: the rows of the nonzeros, then their columns
    indices = torch.tensor([[0, 1, 2, 2], [1, 0, 0, 3]])
    values = torch.tensor([1.0, 2.0, 3.0, 4.0])
    matrix = torch.sparse_coo_tensor(indices, values, (3, 4), check_invariants=True)
    return matrix.coalesce()


def coo() -> dict[str, object]:
    """COO: one coordinate per nonzero, plus its value and the dense shape.

    TF: ``tf.sparse.SparseTensor(indices, values, dense_shape)`` takes one [row, col] pair per nonzero,
    shape [nnz, 2]; ``torch.sparse_coo_tensor`` takes the transpose, one row of indices per axis, [2, nnz].
    """
    matrix = example_matrix()
    return {
        "indices": matrix.indices().tolist(),
        "values": matrix.values().tolist(),
        "nnz": matrix.values().numel(),
        "dense": matrix.to_dense().tolist(),
    }


def csr() -> dict[str, list]:
    """CSR: the column indices and values row after row, plus row pointers.

    ``crow_indices[i]:crow_indices[i + 1]`` is the slice of row i; row i holds
    ``crow_indices[i + 1] − crow_indices[i]`` nonzeros. TensorFlow's public API has no CSR tensor.
    """
    matrix = example_matrix().to_sparse_csr()
    return {
        "row pointers": matrix.crow_indices().tolist(),
        "column indices": matrix.col_indices().tolist(),
        "values": matrix.values().tolist(),
    }


def one_hot_sparsity() -> dict[str, object]:
    """A 10,000-long one-hot vector: sparsity = 1 − 1/10,000 = 99.99%, and the bytes a sparse copy saves.

    Dense: 10,000 float32 = 40,000 bytes. COO: one int64 index (8 bytes) + one float32 value (4 bytes).
    """
    dense = torch.nn.functional.one_hot(torch.tensor(42), num_classes=10_000).float()
    sparse = dense.to_sparse()
    nnz = sparse.values().numel()
    dense_bytes = dense.numel() * dense.element_size()
    sparse_bytes = sparse.indices().nbytes + sparse.values().nbytes
    return {
        "numel": dense.numel(),
        "nnz": nnz,
        "sparsity": 1 - nnz / dense.numel(),
        "dense bytes": dense_bytes,
        "sparse bytes": sparse_bytes,
        "bytes saved": dense_bytes - sparse_bytes,
    }


def sparse_dense_matmul() -> dict[str, object]:
    """Sparse × dense matmul gives exactly the dense product, touching only the nonzeros.

    TF: ``tf.sparse.sparse_dense_matmul(sparse, dense)``; PyTorch: ``torch.sparse.mm(sparse, dense)``.
    """
    matrix = example_matrix()
    dense = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]])
    sparse_product = torch.sparse.mm(matrix, dense)
    dense_product = matrix.to_dense() @ dense
    return {
        "sparse @ dense": sparse_product.tolist(),
        "dense @ dense": dense_product.tolist(),
        "equal": torch.equal(sparse_product, dense_product),
    }


HELPERS = (example_matrix,)
STEPS = (coo, csr, one_hot_sparsity, sparse_dense_matmul)
