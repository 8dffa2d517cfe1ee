"""gunicorn entry point: `gunicorn wsgi:app` (no --preload: each worker builds its own Neo4j driver)."""

from app import create_app

app = create_app()
