#!/usr/bin/env bash
# session 11, call B (carry .gpu-jlama-model): the 27M HF folder into /tmp/jlama-model for call C
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; date -u; nproc
rm -rf /tmp/jlama-model && cp -r .gpu-jlama-model /tmp/jlama-model && xz -d -T4 /tmp/jlama-model/*/model.safetensors.xz && ls -l /tmp/jlama-model/*
