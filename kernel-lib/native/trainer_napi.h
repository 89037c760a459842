// N-API bindings of the fine-tuning trainer (trainer.h), added to the addon's exports by Init.
#pragma once
#include <node_api.h>

// Defines trainerCreate, trainerAccumulate, trainerLoss, trainerStep, trainerParams, trainerRead,
// trainerWrite, trainerSteps, trainerModel and trainerProfile on `exports`; false (with a pending exception) on failure.
bool RegisterTrainer(napi_env env, napi_value exports);
