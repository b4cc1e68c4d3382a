"""redisai-py against the module: the client calls users make, with known answers.

Usage: redisai_py_roundtrip.py <unix socket> <models dir> <two-output TorchScript model>
Exits non-zero (with a traceback) on any mismatch.
"""
import os
import sys
import warnings

import numpy as np
import redisai

sock, models, two_outputs_path = sys.argv[1], sys.argv[2], sys.argv[3]
# Every read times out: a server that never answers fails the test instead of hanging it.
con = redisai.Client(unix_socket_path=sock, socket_timeout=30)


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
assert con.config("MODEL_CHUNK_SIZE") == 535822336
assert con.modeldel("iris_m") == "OK"
try:
    con.modelget("iris_m")
    raise AssertionError("deleted model still readable")
except Exception as e:  # redis.exceptions.ResponseError
    assert "model key is empty" in str(e), e

# TORCH models: the reference model (a + b) and a two-output model built from source.
pt = read("pt-minimal.pt")
assert con.modelstore("pt", "torch", "cpu", pt, tag="pt:v1") == "OK"
meta = con.modelget("pt")
assert meta["backend"] == "TORCH" and meta["device"] == "cpu" and meta["tag"] == "pt:v1", meta
assert meta["inputs"] == ["a", "b"] and meta["outputs"] == [""], meta
assert meta["blob"] == pt
a = np.array([[2, 3], [2, 3]], dtype=np.float32)
b = np.ones((2, 2), dtype=np.float32)
assert con.tensorset("a", a) == "OK" and con.tensorset("b", b) == "OK"
assert con.modelexecute("pt", inputs=["a", "b"], outputs=["c"]) == "OK"
assert np.array_equal(con.tensorget("c"), a + b)
with open(two_outputs_path, "rb") as f:
    two = f.read()
assert con.modelstore("pt2", "TORCH", "CPU", two, batch=4) == "OK"
assert con.modelget("pt2", meta_only=True)["outputs"] == ["", ""]
assert con.modelexecute("pt2", inputs=["a", "b"], outputs=["ps", "pp"], timeout=5000) == "OK"
assert np.array_equal(con.tensorget("ps"), a + b) and np.array_equal(con.tensorget("pp"), a * b)
ints = np.array([[1, 2, 3]], dtype=np.int64)
assert con.tensorset("i", ints) == "OK"
assert con.modelexecute("pt2", inputs=["i", "i"], outputs=["si", "pi"]) == "OK"
got = con.tensorget("pi")
assert got.dtype == np.int64 and np.array_equal(got, ints * ints), got
info = con.infoget("pt2")
assert info["type"] == "MODEL" and info["backend"] == "TORCH" and info["calls"] == 2, info

# Scripts: entry points with the (tensors, keys, args) signature.
SCRIPT = """\
def bar(tensors: List[Tensor], keys: List[str], args: List[str]):
    return tensors[0] + tensors[1]

def scale_and_note(tensors: List[Tensor], keys: List[str], args: List[str]):
    redis.execute('SET', keys[0], args[1])
    return tensors[0] * int(args[0]), tensors[1] * int(args[0])

def from_key(tensors: List[Tensor], keys: List[str], args: List[str]):
    return torch.tensor(int(str(redis.execute('GET', keys[0]))))
"""
assert con.scriptstore("s", "cpu", SCRIPT, entry_points=["bar", "scale_and_note", "from_key"], tag="s:v1") == "OK"
meta = con.scriptget("s", meta_only=True)
assert meta["device"] == "cpu" and meta["tag"] == "s:v1", meta
assert meta["entry points"] == [b"bar", b"scale_and_note", b"from_key"], meta
assert "source" not in meta, meta
full = con.scriptget("s")
assert full["source"] == SCRIPT, full
assert con.scriptexecute("s", "bar", inputs=["a", "b"], outputs=["sum"]) == "OK"
assert np.array_equal(con.tensorget("sum"), a + b)
reply = con.scriptexecute(
    "s", "scale_and_note", keys=["note"], inputs=["a", "b"], args=["3", "42"], outputs=["sa", "sb"], timeout=5000
)
assert reply == "OK", reply
assert np.array_equal(con.tensorget("sa"), a * 3) and np.array_equal(con.tensorget("sb"), b * 3)
assert con.get("note") == b"42"
assert con.scriptexecute("s", "from_key", keys="note", outputs="n") == "OK"
n = con.tensorget("n", as_numpy=False)
assert n["dtype"] == "INT64" and n["shape"] == [] and n["values"] == [42], n
# Errors come back as exceptions with the module's text.
try:
    con.scriptexecute("s", "nosuch", inputs=["a"], outputs=["x"])
    raise AssertionError("a missing function ran")
except Exception as e:
    assert "Function does not exist: nosuch" in str(e), e
try:
    con.scriptstore("bad", "cpu", "return 1", entry_points="f")
    raise AssertionError("a bad script was stored")
except Exception as e:
    assert "expected def but found 'return' here" in str(e), e
assert not con.exists("bad")

# A script in a DAG.
dag = con.dag(load=["a", "b"], persist=["dag_sum"])
dag.scriptexecute("s", "bar", inputs=["a", "b"], outputs=["dag_sum"])
dag.tensorget("dag_sum")
result = dag.execute()
assert result[0] == "OK" and np.array_equal(result[1], a + b), result
assert np.array_equal(con.tensorget("dag_sum"), a + b)

# Scan, statistics, delete.
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    assert con.scriptscan() == [["s", "s:v1"]], con.scriptscan()
info = con.infoget("s")
assert info["type"] == "SCRIPT" and info["backend"] == "TORCH" and info["calls"] == 5, info
assert info["errors"] == 1, info
assert con.scriptdel("s") == "OK"
try:
    con.scriptget("s")
    raise AssertionError("deleted script still readable")
except Exception as e:
    assert "script key is empty" in str(e), e

# The deprecated pair: a script without entry points, its functions called positionally.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    OLD = "def mul(a, b):\n    return a * b\n\ndef first(x: List[Tensor]):\n    return x[0]\n"
    assert con.scriptset("old", "cpu", OLD, tag="legacy") == "OK"
    meta = con.scriptget("old")
    assert meta["tag"] == "legacy" and meta["entry points"] == [] and meta["source"] == OLD, meta
    assert con.scriptrun("old", "mul", inputs=["a", "b"], outputs=["prod"]) == "OK"
    assert np.array_equal(con.tensorget("prod"), a * b)
    assert con.scriptrun("old", "first", inputs=["b", "a"], outputs="f") == "OK"
    assert np.array_equal(con.tensorget("f"), b)
    # A legacy script also runs through scriptexecute.
    assert con.scriptexecute("old", "mul", inputs=["a", "a"], outputs=["sq"]) == "OK"
    assert np.array_equal(con.tensorget("sq"), a * a)
assert con.scriptdel("old") == "OK"
assert con.modeldel("pt") == "OK" and con.modeldel("pt2") == "OK"

print("redisai-py round trip: ok")
