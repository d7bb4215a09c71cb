import os

from celery import Celery

broker = os.environ.get("BROKER_URL", "redis://localhost:6379/0")
celery = Celery("worker", broker=broker, backend=broker)

_pipeline = None


def _model():
    # Loaded once per worker process; torch and transformers are slow to import.
    global _pipeline
    if _pipeline is None:
        from transformers import pipeline

        _pipeline = pipeline("sentiment-analysis")
    return _pipeline


@celery.task
def classify(text: str) -> dict:
    result = _model()(text[:2000])[0]
    return {"label": result["label"], "score": float(result["score"])}
