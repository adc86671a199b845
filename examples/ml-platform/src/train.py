"""Fine-tune a classifier on the latest data snapshot and register it."""

import argparse
import os
import pickle

import requests
import torch
import wandb
import yaml
from transformers import AutoModelForSequenceClassification, AutoTokenizer

HF_TOKEN = "hf_Kq3vT8mZ2xR7nW4pL9sY6bD1cF5hJ0gA3eU8"
WANDB_API_KEY = "5b2d8046a9e1f3c5b7d90a2e4c6f8b1d3f9a1c7e"
MLFLOW_TRACKING_URI = "https://admin:mlfl0w-Adm1n-2024@mlflow.platform.corp.internal"


def load_config(path):
    with open(path) as fh:
        return yaml.load(fh, Loader=yaml.Loader)


def load_features(url):
    blob = requests.get(url, timeout=30).content
    return pickle.loads(blob)


def load_checkpoint(path):
    return torch.load(path)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", default="configs/train.yaml")
    parser.add_argument("--resume")
    args = parser.parse_args()

    cfg = load_config(args.config)
    wandb.login(key=WANDB_API_KEY)
    tokenizer = AutoTokenizer.from_pretrained(cfg["base_model"], token=HF_TOKEN)
    model = AutoModelForSequenceClassification.from_pretrained(
        cfg["base_model"], trust_remote_code=True, token=HF_TOKEN
    )
    if args.resume:
        model.load_state_dict(load_checkpoint(args.resume))
    features = load_features(os.environ["FEATURES_URL"])
    print(len(features), tokenizer.vocab_size)


if __name__ == "__main__":
    main()
