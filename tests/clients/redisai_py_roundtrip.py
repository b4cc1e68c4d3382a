"""redisai-py against the module: the client calls users make, with known answers.

Usage: redisai_py_roundtrip.py <unix socket> <models dir>
Exits non-zero (with a traceback) on any mismatch.
"""
import os
import sys

import numpy as np
import redisai

sock, models = sys.argv[1], sys.argv[2]
con = redisai.Client(unix_socket_path=sock)


def read(name):
    with open(os.path.join(models, name), "rb") as f:
        return f.read()


# Model store / get with metadata.
mnist = read("mnist.onnx")
assert con.modelstore("mnist", "onnx", "cpu", mnist, tag="digits:v1") == "OK"
meta = con.modelget("mnist")
assert meta["backend"] == "ONNX", meta
assert meta["device"] == "cpu", meta
assert meta["tag"] == "digits:v1", meta
assert meta["inputs"] == ["Input3"], meta
assert meta["outputs"] == ["Plus214_Output_0"], meta
assert meta["blob"] == mnist

# Tensors in and out as numpy arrays, and a run.
img = np.frombuffer(read("one.raw"), dtype=np.float32).reshape(1, 1, 28, 28)
assert con.tensorset("img", img) == "OK"
assert np.array_equal(con.tensorget("img"), img)
assert con.modelexecute("mnist", inputs=["img"], outputs=["scores"]) == "OK"
scores = con.tensorget("scores")
assert scores.shape == (1, 10), scores.shape
assert int(np.argmax(scores)) == 1, scores

# Values and metadata forms.
assert con.tensorset("iris", [5.1, 3.5, 1.4, 0.2], shape=(1, 4), dtype="float") == "OK"
assert con.modelstore("iris_m", "ONNX", "CPU", read("linear_iris.onnx")) == "OK"
assert con.modelexecute("iris_m", inputs=["iris"], outputs=["pred"], timeout=5000) == "OK"
pred = con.tensorget("pred", as_numpy=False)
assert pred["dtype"] == "FLOAT" and pred["shape"] == [1, 1], pred
assert abs(pred["values"][0] - (-0.090524077415466309)) < 1e-6, pred

# Run statistics.
info = con.infoget("mnist")
assert info["key"] == "mnist" and info["type"] == "MODEL", info
assert info["backend"] == "ONNX" and info["calls"] == 1 and info["errors"] == 0, info
assert info["samples"] == 1 and info["duration"] > 0, info

# DAGs through the client's builder: DAGEXECUTE with LOAD/PERSIST/TIMEOUT, a read-only DAG with
# ROUTING, and the deprecated DAGRUN form (no LOAD/PERSIST/ROUTING).
dag = con.dag(load=["img"], persist=["dag_scores"], timeout=5000)
dag.modelexecute("mnist", inputs=["img"], outputs=["dag_scores"])
dag.tensorget("dag_scores")
result = dag.execute()
assert result[0] == "OK", result
assert int(np.argmax(result[1])) == 1, result
assert int(np.argmax(con.tensorget("dag_scores"))) == 1
dag = con.dag(routing="img", readonly=True)
dag.tensorset("x", [1.5, 2.5], shape=(1, 2), dtype="float")
dag.tensorget("x", as_numpy=False)
result = dag.execute()
assert result[0] == "OK" and result[1]["values"] == [1.5, 2.5], result
dag = con.dag()
dag.tensorset("x", [5.1, 3.5, 1.4, 0.2], shape=(1, 4), dtype="float")
dag.modelrun("iris_m", inputs=["x"], outputs=["y"])
dag.tensorget("y", as_numpy=False)
result = dag.execute()
assert result[0] == "OK" and result[1] == "OK", result
assert abs(result[2]["values"][0] - (-0.090524077415466309)) < 1e-6, result
assert not con.exists("x") and not con.exists("y")

assert con.infoget("mnist")["calls"] == 2
assert con.inforeset("mnist") == "OK"
assert con.infoget("mnist")["calls"] == 0

# Scan, config, delete.
keys = sorted(entry[0] for entry in con.modelscan())
assert keys == ["iris_m", "mnist"], keys
assert con.config("MODEL_CHUNK_SIZE") == 536870912
assert con.modeldel("iris_m") == "OK"
try:
    con.modelget("iris_m")
    raise AssertionError("deleted model still readable")
except Exception as e:  # redis.exceptions.ResponseError
    assert "model key is empty" in str(e), e

print("redisai-py round trip: ok")
