"""The migration report (``convert --report``, ``calico2cilium report``): one document saying what a
conversion proved, under which assumptions, what became of each source policy, and how to cut over."""
