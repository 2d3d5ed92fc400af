# One image for every Python deployable: central, edge agent, device stand-ins.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml setup.py README.md ./
COPY firmware-interfaces firmware-interfaces
COPY central central
COPY edge edge
COPY simulators simulators
COPY optimization optimization
COPY whs whs
RUN pip install --no-cache-dir . && useradd --system --uid 10001 whs
USER whs
ENTRYPOINT ["whs"]
