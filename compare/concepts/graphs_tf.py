"""TensorFlow's side of ``ptref/concepts/graphs.py``: TF1 graphs and sessions, ``tf.function``, SavedModel,
TensorBoard's graph."""

from __future__ import annotations

import os
import tempfile

import tensorflow as tf


def graph_in_event_file(logdir: str) -> dict[str, tuple[str, list[str]]]:
    for record in tf.data.TFRecordDataset(tf.io.gfile.glob(f"{logdir}/events.out.tfevents.*")):
        event = tf.compat.v1.Event.FromString(record.numpy())
        if event.graph_def:
            graph = tf.compat.v1.GraphDef.FromString(event.graph_def)
            return {node.name: (node.op, list(node.input)) for node in graph.node}
    raise ValueError(f"no graph in {logdir}")


def build_then_run() -> dict[str, object]:
    graph = tf.Graph()
    with graph.as_default():
        a = tf.constant(2)
        b = tf.constant(3)
        c = a + b
    with tf.compat.v1.Session(graph=graph) as session:
        value = session.run(c)
    return {"c as built": str(c), "c": int(value)}


def placeholders_are_arguments() -> dict[str, list[float]]:
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, shape=[None])
        affine = 2 * x + 1
    with tf.compat.v1.Session(graph=graph) as session:
        result = session.run(affine, feed_dict={x: [1.0, 2.0, 3.0]})
    return {"2x + 1 at [1, 2, 3]": result.tolist()}


def variables_are_parameters() -> dict[str, object]:
    model = tf.Module()
    model.weight = tf.Variable(1.0)
    model.weight.assign_sub(0.5)
    return {
        "weight": float(model.weight),
        "trainable": model.weight.trainable,
        "tracked by the module": len(model.trainable_variables),
    }


def tracing_runs_python_once() -> dict[str, object]:
    python_runs = []

    def affine(x: tf.Tensor) -> tf.Tensor:
        python_runs.append(1)
        return 2 * x + 1

    eager = [float(affine(tf.constant(v))) for v in (1.0, 2.0, 3.0)]
    eager_runs = len(python_runs)
    traced = tf.function(affine)
    replayed = [float(traced(tf.constant(v))) for v in (1.0, 2.0, 3.0)]
    return {
        "eager results": eager,
        "Python body ran (eager, 3 calls)": eager_runs,
        "traced results": replayed,
        "Python body ran (traced, 3 calls)": len(python_runs) - eager_runs,
    }


def graph_nodes_and_edges() -> dict[str, list[str]]:
    def dense_relu(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
        return tf.nn.relu(x @ w + b)

    specs = tf.TensorSpec([None, 3]), tf.TensorSpec([3, 2]), tf.TensorSpec([2])
    graph = tf.function(dense_relu).get_concrete_function(*specs).graph
    ops = graph.get_operations()
    return {
        "nodes": [op.name for op in ops],
        "edges": [f"{t.op.name} -> {op.name}" for op in ops for t in op.inputs],
    }


def constant_folding() -> dict[str, object]:
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, shape=[2])
        scaled = x * (tf.constant(2.0) + tf.constant(3.0))
    metadata = tf.compat.v1.RunMetadata()
    # output_partition_graphs: hand back the graph as Grappler optimized it
    options = tf.compat.v1.RunOptions(output_partition_graphs=True)
    with tf.compat.v1.Session(graph=graph) as session:
        result = session.run(
            scaled, feed_dict={x: [1.0, 2.0]}, options=options, run_metadata=metadata
        )
    before = graph.get_operations()
    after = [node for partition in metadata.partition_graphs for node in partition.node]
    constants = [n.attr["value"].tensor for n in after if n.op == "Const"]
    return {
        "ops before": [op.name for op in before if op.type not in ("Placeholder", "Const")],
        "ops after": [n.name for n in after if n.op not in ("_Arg", "_Retval", "Const")],
        "constants after": [tf.make_ndarray(c).item() for c in constants],
        "x = [1, 2]": result.tolist(),
    }


def serialize_without_the_class() -> dict[str, object]:
    class DenseRelu(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = tf.Variable([[1.0, -2.0], [3.0, 4.0], [-5.0, 6.0]])

        @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
        def __call__(self, x: tf.Tensor) -> tf.Tensor:
            return tf.nn.relu(x @ self.w)

    x = tf.constant([[1.0, 1.0, 1.0], [1.0, 0.0, 2.0]])
    with tempfile.TemporaryDirectory() as directory:
        tf.saved_model.save(DenseRelu(), directory)
        files = sorted(os.listdir(directory))
        reloaded = tf.saved_model.load(directory)  # DenseRelu is not needed
        output = reloaded(x)
    return {
        "files": files,
        "reloaded output": output.numpy().tolist(),
        "original": DenseRelu()(x).numpy().tolist(),
    }


def tensorboard_graph() -> dict[str, object]:
    graph = tf.Graph()
    with graph.as_default():
        X = tf.compat.v1.placeholder(tf.float32, [None, 3], name="X")  # x0 = 1, area, bedrooms
        y = tf.compat.v1.placeholder(tf.float32, [None, 1], name="y")
        W = tf.compat.v1.get_variable("W", (3, 1), initializer=tf.compat.v1.constant_initializer())
        y_pred = tf.matmul(X, W, name="y_pred")
        loss_op = 1 / (2 * 47) * tf.matmul(y_pred - y, y_pred - y, transpose_a=True)
        tf.compat.v1.train.GradientDescentOptimizer(learning_rate=0.01).minimize(loss_op)
    with tempfile.TemporaryDirectory() as logdir:
        with graph.as_default():  # FileWriter refuses to run eagerly
            writer = tf.compat.v1.summary.FileWriter(logdir, graph)
            writer.close()
        nodes = graph_in_event_file(logdir)
    return {
        "nodes": len(nodes),
        "y_pred": [y_pred.op.name, nodes[y_pred.op.name][0]],
        "y_pred's inputs": [[name, nodes[name][0]] for name in nodes[y_pred.op.name][1]],
        "gradient and update nodes": sum("grad" in name.lower() for name in nodes),
        "op types": sorted({op for op, _ in nodes.values()}),
    }
