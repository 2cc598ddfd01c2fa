"""Fine-tuning a causal language model with a customised Hugging Face Trainer and a sample-generating callback.

Neither override restores the mode and neither needs to: Trainer's evaluation loop puts the model
in eval mode before calling prediction_step, and training_step calls model.train() on every step.
"""
import torch
from transformers import (AutoModelForCausalLM, AutoTokenizer, Trainer, TrainerCallback,
                          TrainingArguments)


class LossOnlyTrainer(Trainer):
    def prediction_step(self, model, inputs, prediction_loss_only, ignore_keys=None):
        inputs = self._prepare_inputs(inputs)
        with torch.no_grad():
            outputs = model(**inputs)
        return outputs.loss.detach(), None, None


class SampleEveryN(TrainerCallback):
    def __init__(self, tokenizer, prompt, every=500):
        self.tokenizer = tokenizer
        self.prompt = prompt
        self.every = every

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if model is None or state.global_step % self.every:
            return
        model.eval()
        ids = self.tokenizer(self.prompt, return_tensors="pt").input_ids.to(model.device)
        with torch.no_grad():
            out = model.generate(ids, max_new_tokens=40, do_sample=True, top_p=0.9)
        print(f"[step {state.global_step}] {self.tokenizer.decode(out[0], skip_special_tokens=True)}")


def main(train_ds, eval_ds):
    tokenizer = AutoTokenizer.from_pretrained("gpt2")
    model = AutoModelForCausalLM.from_pretrained("gpt2")
    args = TrainingArguments(
        output_dir="gpt2-recipes", per_device_train_batch_size=8, num_train_epochs=3,
        eval_strategy="steps", eval_steps=1000, logging_steps=100, learning_rate=5e-5,
    )
    trainer = LossOnlyTrainer(
        model=model, args=args, train_dataset=train_ds, eval_dataset=eval_ds,
        callbacks=[SampleEveryN(tokenizer, "Ingredients: flour, eggs,")],
    )
    trainer.train()
    trainer.save_model()
