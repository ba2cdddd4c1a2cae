"""Lightning callbacks that print and draw what the course shows after training."""
