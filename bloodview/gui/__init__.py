"""The PyQt6 desktop application: window, panels, canvas, workers.

Importing this package imports no Qt and no TensorFlow; :func:`bloodview.gui.app.run`
starts the application. The model is imported only inside the detection worker.
"""
