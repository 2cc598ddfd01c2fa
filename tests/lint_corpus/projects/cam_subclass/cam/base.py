"""The base explainer puts the model it is given in eval mode once, in its constructor."""


class BaseCAM:
    def __init__(self, model, target_layers):
        self.model = model
        self.model.eval()
        self.target_layers = target_layers

    def __call__(self, input_tensor):
        return self.get_cam_weights(input_tensor)
