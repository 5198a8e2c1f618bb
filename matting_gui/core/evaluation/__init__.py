"""Measuring mattes: SAD, MSE, Gradient and Connectivity over the unknown region."""
