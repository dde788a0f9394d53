# The `cpis` image: the runtime only (no test tools), built once, run as a non-root user.
#   docker build -t cpis .        (docker compose builds it for every cpis-* service)
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    CPIS_DATA_DIR=/var/lib/cpis CPIS_METRICS_HOST=0.0.0.0
WORKDIR /opt/cpis
COPY pyproject.toml README.md ./
COPY domain domain
COPY adapters adapters
COPY streams streams
COPY avro avro
RUN pip install --no-compile . \
    && useradd --system --home-dir /var/lib/cpis --create-home cpis
USER cpis
ENTRYPOINT ["cpis"]
CMD ["--help"]
