"""TensorFlow's side of ``ptref/concepts/sparse.py``: ``tf.sparse``."""

from __future__ import annotations

import tensorflow as tf


def example_matrix() -> tf.sparse.SparseTensor:
    indices = [[0, 1], [1, 0], [2, 0], [2, 3]]  # one [row, col] per nonzero
    values = [1.0, 2.0, 3.0, 4.0]
    matrix = tf.sparse.SparseTensor(indices, values, dense_shape=[3, 4])
    return tf.sparse.reorder(matrix)


def coo() -> dict[str, object]:
    matrix = example_matrix()
    return {
        "indices": matrix.indices.numpy().tolist(),
        "values": matrix.values.numpy().tolist(),
        "nnz": int(tf.size(matrix.values)),
        "dense": tf.sparse.to_dense(matrix).numpy().tolist(),
    }


def csr() -> dict[str, list]:
    matrix = example_matrix()
    rows, columns = matrix.indices[:, 0], matrix.indices[:, 1]
    # TensorFlow has no CSR type: count the nonzeros per row, then sum them up
    per_row = tf.math.bincount(rows, minlength=matrix.dense_shape[0], dtype=tf.int64)
    row_pointers = tf.concat([[0], tf.cumsum(per_row)], axis=0)
    return {
        "row pointers": row_pointers.numpy().tolist(),
        "column indices": columns.numpy().tolist(),
        "values": matrix.values.numpy().tolist(),
    }


def one_hot_sparsity() -> dict[str, object]:
    dense = tf.one_hot(42, depth=10_000)
    sparse = tf.sparse.from_dense(dense)
    nnz = int(tf.size(sparse.values))
    dense_bytes = dense.numpy().nbytes
    sparse_bytes = sparse.indices.numpy().nbytes + sparse.values.numpy().nbytes
    return {
        "numel": int(tf.size(dense)),
        "nnz": nnz,
        "sparsity": 1 - nnz / int(tf.size(dense)),
        "dense bytes": dense_bytes,
        "sparse bytes": sparse_bytes,
        "bytes saved": dense_bytes - sparse_bytes,
    }


def sparse_dense_matmul() -> dict[str, object]:
    matrix = example_matrix()
    dense = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]])
    sparse_product = tf.sparse.sparse_dense_matmul(matrix, dense)
    dense_product = tf.sparse.to_dense(matrix) @ dense
    return {
        "sparse @ dense": sparse_product.numpy().tolist(),
        "dense @ dense": dense_product.numpy().tolist(),
        "equal": bool(tf.reduce_all(sparse_product == dense_product)),
    }
