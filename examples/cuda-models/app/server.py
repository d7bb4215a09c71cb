from pathlib import Path

import torch
from fastapi import FastAPI
from pydantic import BaseModel
from sentence_transformers import CrossEncoder, SentenceTransformer
from transformers import pipeline

device = "cuda" if torch.cuda.is_available() else "cpu"
app = FastAPI(title="search-ranking")

embedder = SentenceTransformer("sentence-transformers/all-MiniLM-L6-v2", device=device)
reranker = CrossEncoder("cross-encoder/ms-marco-MiniLM-L-6-v2", device=device)
# The fine-tuned intent classifier lives in the repository under models/.
INTENT_MODEL = Path(__file__).resolve().parent.parent / "models" / "intent-classifier"
intent = pipeline("text-classification", model=str(INTENT_MODEL), device=device)


class Query(BaseModel):
    query: str
    passages: list[str]


@app.post("/rank")
def rank(q: Query) -> dict:
    scores = reranker.predict([(q.query, p) for p in q.passages])
    order = sorted(range(len(q.passages)), key=lambda i: -scores[i])
    return {"order": order, "scores": [float(scores[i]) for i in order]}


@app.post("/embed")
def embed(q: Query) -> dict:
    return {"vectors": embedder.encode(q.passages).tolist()}


@app.post("/intent")
def classify(q: Query) -> dict:
    return {"intent": intent(q.query)[0]["label"]}
