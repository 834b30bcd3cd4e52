"""postcart.synth"""
