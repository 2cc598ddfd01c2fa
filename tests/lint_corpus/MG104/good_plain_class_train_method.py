class Trainer:
    def __init__(self):
        self.train_loader = None

    def train(self):
        print("training")
