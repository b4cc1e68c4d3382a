"""A semantic cache for LLM answers, inside Redis.

A new prompt that means the same as a cached one gets the cached answer. Each lookup is one
round trip (AI.DAGEXECUTE_RO: the prompt's vector, then the nearest cached prompt in a vector
set with its score and answer); each store is one round trip too (the vector, then VADD with the
prompt and answer as attributes). Needs Redis 8 (vector sets) with the module and ONNX loaded:

    python examples/semantic_cache.py --port 6379

VSIM's score is (cosine + 1) / 2: 1 is the same direction, 0.5 unrelated. THRESHOLD 0.9 is a
cosine of 0.8, a usual cut for paraphrases with all-MiniLM-L6-v2.
"""
import json
import uuid

from common import connect, embed_then, ensure_embedder

INDEX = "llmcache:index"
THRESHOLD = 0.9


def lookup(r, prompt):
    """The cached answer of the nearest prompt and its score, or (None, score)."""
    reply = r.execute_command(
        "AI.DAGEXECUTE_RO", "ROUTING", INDEX,
        *embed_then(prompt, "|>", "AI.VSIM", INDEX, "v", "COUNT", "1", "WITHSCORES", "WITHATTRIBS"),
    )
    hits = reply[2] or []
    if not hits:
        return None, 0.0
    score, attributes = float(hits[1]), json.loads(hits[2])
    return (attributes["answer"] if score >= THRESHOLD else None), score


def store(r, prompt, answer):
    attributes = json.dumps({"prompt": prompt, "answer": answer})
    r.execute_command(
        "AI.DAGEXECUTE", "ROUTING", INDEX,
        *embed_then(prompt, "|>", "AI.VADD", INDEX, "v", uuid.uuid4().hex, "SETATTR", attributes),
    )


def ask(r, prompt, llm):
    """The cache in front of `llm` (any function from prompt to answer)."""
    answer, score = lookup(r, prompt)
    if answer is not None:
        print(f"hit  {score:.3f}  {prompt!r} -> {answer!r}")
        return answer
    answer = llm(prompt)
    store(r, prompt, answer)
    print(f"miss {score:.3f}  {prompt!r} -> asked the LLM, cached {answer!r}")
    return answer


def main():
    r, args = connect(__doc__.splitlines()[0])
    ensure_embedder(r, args)
    r.delete(INDEX)
    # Stands in for the LLM call of a real application (an HTTP request to a model server).
    canned = {
        "How do I reset my password?": "Open Settings, then Security, then Reset password.",
        "What is the capital of France?": "Paris.",
    }
    llm = lambda prompt: canned.get(prompt, "I do not know.")  # noqa: E731
    ask(r, "How do I reset my password?", llm)
    ask(r, "What is the capital of France?", llm)
    ask(r, "I forgot my password, how can I reset it?", llm)
    ask(r, "Which city is France's capital?", llm)
    ask(r, "How tall is Mount Everest?", llm)


if __name__ == "__main__":
    main()
