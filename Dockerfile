# om-bridge under gunicorn (`om-bridge serve`), as docs/deployment.md describes it.
# Build: docker build -t om-bridge .      Run with Redis: docker compose up (compose.yaml)

# --- build: the om-bridge wheel (its dependencies come from requirements.lock) ---
FROM python:3.11-slim AS build
WORKDIR /src
# The top-level folders install as om_bridge.<folder> (pyproject.toml [tool.setuptools]).
COPY pyproject.toml README.md LICENSE ./
COPY om_bridge ./om_bridge
COPY bridge ./bridge
COPY sandbox ./sandbox
COPY extension ./extension
COPY schemas ./schemas
COPY flows ./flows
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# --- runtime: the locked dependencies (hash-checked), the om-bridge wheel, a non-root user ---
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/om-bridge --create-home om-bridge
COPY requirements.lock /tmp/requirements.lock
COPY --from=build /wheels /wheels
# The same two steps as tests/scenario/test_packaging.py: the lock file, then the wheel with no
# index (every dependency it declares must already be there), then pip's consistency check.
RUN pip install --no-cache-dir --require-hashes -r /tmp/requirements.lock \
    && pip install --no-cache-dir --no-index --find-links /wheels "om-bridge[redis]" \
    && pip check \
    && rm -rf /wheels /tmp/requirements.lock
USER om-bridge
WORKDIR /var/lib/om-bridge
EXPOSE 8080
# Liveness: /healthz answers 200 while the process serves HTTP (readiness is /readyz).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status != 200)"]
# The production command of docs/deployment.md (config path /etc/om-bridge/om-bridge.toml, port 8080).
CMD ["om-bridge", "serve", "--config", "/etc/om-bridge/om-bridge.toml", "--host", "0.0.0.0", "--port", "8080", "--connections", "10000"]
