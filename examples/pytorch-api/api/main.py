from fastapi import FastAPI
from pydantic import BaseModel

from worker.tasks import classify

app = FastAPI(title="review-sentiment")


class Review(BaseModel):
    text: str


@app.post("/reviews")
def submit(review: Review) -> dict:
    job = classify.delay(review.text)
    return {"job": job.id}


@app.get("/healthz")
def healthz() -> dict:
    return {"ok": True}
