//! Renderers: one report model, one writer per format. Only this module and `app` print.
