# syntax=docker/dockerfile:1
#
# The memos-graph GraphQL service (uvicorn on port 8000; GET /healthz checks Neo4j). Neo4j is not in here:
# see docker-compose.yml, or point NEO4J_URI at a server, cluster or Aura instance.
#
#   docker build -t memos-graph .                                  CPU-only torch (default)
#   docker build --build-arg TORCH_VARIANT=cuda -t memos-graph .   requirements.lock exactly: PyPI's CUDA
#                                                                  torch with its NVIDIA libraries
#
# TORCH_VARIANT=cpu installs the lock's torch version from the PyTorch CPU index (TORCH_CPU_INDEX; point it at
# a mirror if that index is out of reach) and leaves out the lock's CUDA-only packages (triton, nvidia-*,
# cuda-*), which saves several GB: the embedder runs on the CPU unless MEMOS_EMBEDDER_DEVICE says otherwise.
# Only torch itself comes from that index (--no-deps); its dependencies and every other package come from
# PyPI at the versions the lock pins, and `pip check` confirms the CPU build's requirements are all met.
#
# The image carries GraphiQL's browser scripts and the memory explorer's graph library (built in the first
# stage with npm, the same packages and versions as scripts/setup.sh), so GraphiQL at /graphql and the
# explorer at /explorer work without the browser reaching a CDN.

ARG PYTHON_IMAGE=python:3.11-slim
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS graphiql-assets
RUN npm install --prefix /opt/graphiql-assets --no-audit --no-fund --omit=dev \
      graphiql@3.8.3 react@18.2.0 react-dom@18.2.0 @graphiql/plugin-explorer@1.0.2 js-cookie@3.0.5 \
    && test -d /opt/graphiql-assets/node_modules/graphiql \
    && npm install --prefix /opt/explorer-assets --no-audit --no-fund --omit=dev --save-exact cytoscape@3.35.0 \
    && test -f /opt/explorer-assets/node_modules/cytoscape/dist/cytoscape.min.js

FROM ${PYTHON_IMAGE}
ARG TORCH_VARIANT=cpu
ARG TORCH_CPU_INDEX=https://download.pytorch.org/whl/cpu
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY requirements.lock ./
RUN set -eux; \
    case "$TORCH_VARIANT" in \
      cpu) \
        torch_pin="$(grep -E '^torch==' requirements.lock)"; \
        pip install --no-deps --index-url "$TORCH_CPU_INDEX" "$torch_pin"; \
        grep -v -E '^(torch|triton|nvidia-[a-z0-9-]+|cuda-[a-z-]+)==' requirements.lock > /tmp/requirements.txt ;; \
      cuda) \
        cp requirements.lock /tmp/requirements.txt ;; \
      *) \
        echo "TORCH_VARIANT must be cpu or cuda, not '$TORCH_VARIANT'" >&2; exit 2 ;; \
    esac; \
    pip install -r /tmp/requirements.txt; \
    pip check; \
    rm /tmp/requirements.txt; \
    python -c "import torch; print('torch', torch.__version__)"

COPY pyproject.toml README.md ./
COPY memos_graph ./memos_graph
COPY graphql_schema ./graphql_schema
COPY cypher ./cypher
# Editable on purpose: memos_graph.graph.queries reads the Cypher files from cypher/ beside the package
# sources (CYPHER_DIR), and a wheel of this project does not carry cypher/, so after a plain
# `pip install --no-deps .` the installed package could not find its queries.
RUN pip install --no-deps -e . \
    && python -c "from memos_graph.graph.queries import query; query('users_by_ids')"
# The query embedder runs the model through onnxruntime: export it once, at build time (checked against torch).
ENV MEMOS_ONNX_DIR=/opt/memos-onnx
RUN HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 python -m memos_graph.embeddings.export_onnx

COPY --from=graphiql-assets /opt/graphiql-assets /opt/graphiql-assets
COPY --from=graphiql-assets /opt/explorer-assets /opt/explorer-assets

# The app's files stay owned by root: the service user can read them, not change them.
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/memos memos
ENV HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    LITELLM_LOCAL_MODEL_COST_MAP=True \
    MEMOS_GRAPHIQL_ASSETS=/opt/graphiql-assets \
    MEMOS_EXPLORER_ASSETS=/opt/explorer-assets
USER memos

EXPOSE 8000
CMD ["python", "-m", "graphql_schema", "--host", "0.0.0.0", "--port", "8000"]
