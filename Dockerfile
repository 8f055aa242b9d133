# Knutpunkt: one image for the API, the delivery workers and the demo receiver.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    KNUTPUNKT_DATA_DIR=/app

WORKDIR /app
COPY pyproject.toml README.md ./
COPY hub ./hub
COPY adapters ./adapters
COPY profiles ./profiles
COPY terminology ./terminology
COPY examples ./examples
RUN pip install . \
 && useradd --system --uid 10001 --home-dir /var/lib/knutpunkt --create-home knutpunkt \
 && mkdir -p /var/lib/knutpunkt/keys && chown -R knutpunkt /var/lib/knutpunkt

USER knutpunkt
WORKDIR /var/lib/knutpunkt
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2).status == 200 else 1)"
CMD ["knutpunkt", "serve", "--host", "0.0.0.0", "--port", "8080"]
