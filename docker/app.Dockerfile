# The vipcall Stasis application and admin CLI. Build context: the repository root.
FROM python:3.11-slim

WORKDIR /opt/vipcall
COPY pyproject.toml README.md* ./
COPY vipcall/ vipcall/
COPY migrations/ migrations/
COPY sounds/ sounds/
RUN pip install --no-cache-dir .

ENV VIPCALL_STATE_DIR=/var/lib/vipcall/state
CMD ["vipcall", "serve"]
