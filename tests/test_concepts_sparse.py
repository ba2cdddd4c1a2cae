"""The sparse lesson against a dense NumPy reference of the same matrix."""

from __future__ import annotations

import numpy as np
import pytest

from ptref.concepts import sparse

DENSE = np.array([[0.0, 1.0, 0.0, 0.0], [2.0, 0.0, 0.0, 0.0], [3.0, 0.0, 0.0, 4.0]])


def test_coo_holds_the_nonzeros_of_the_matrix() -> None:
    coo = sparse.coo()
    rows, columns = np.nonzero(DENSE)
    assert coo["indices"] == [rows.tolist(), columns.tolist()]
    assert coo["values"] == DENSE[rows, columns].tolist()
    assert coo["nnz"] == 4
    assert coo["dense"] == DENSE.tolist()


def test_csr_row_pointers_count_nonzeros_per_row() -> None:
    csr = sparse.csr()
    assert csr["row pointers"] == [0, *np.cumsum((DENSE != 0).sum(axis=1)).tolist()]
    assert csr["column indices"] == np.nonzero(DENSE)[1].tolist()
    assert csr["values"] == DENSE[DENSE != 0].tolist()


def test_one_hot_of_10000_is_99_99_percent_sparse() -> None:
    one_hot = sparse.one_hot_sparsity()
    assert one_hot["numel"] == 10_000 and one_hot["nnz"] == 1
    assert one_hot["sparsity"] == pytest.approx(0.9999, abs=1e-12)  # a float64 division, exact to ~1e-16
    assert one_hot["dense bytes"] == 10_000 * 4  # float32
    assert one_hot["sparse bytes"] == 8 + 4  # one int64 index, one float32 value
    assert one_hot["bytes saved"] == 40_000 - 12


def test_sparse_dense_matmul_equals_the_dense_product() -> None:
    product = sparse.sparse_dense_matmul()
    expected = DENSE @ np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]])
    assert product["sparse @ dense"] == expected.tolist()  # small integers: exact
    assert product["dense @ dense"] == expected.tolist()
    assert product["equal"] is True
