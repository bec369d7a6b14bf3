"""Real contact providers and what they need: the destination of each attempt
(`destinations`), an HTTP gateway (`http`), and the choice of provider per channel
(`channels`)."""
