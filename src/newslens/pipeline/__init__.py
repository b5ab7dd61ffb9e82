"""What make drives: executing a stage, its marker, rendering, sensitivity runs and new runs."""
