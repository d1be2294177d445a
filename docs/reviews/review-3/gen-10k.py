"""The 10,000-policy input of review 3's progress and timing finding: python gen-10k.py > big.yaml"""

import sys

import yaml

docs = [
    {
        "apiVersion": "projectcalico.org/v3",
        "kind": "NetworkPolicy",
        "metadata": {"name": f"p{i}", "namespace": f"ns{i % 50}"},
        "spec": {
            "order": i,
            "selector": f"app == 'a{i % 200}'",
            "ingress": [
                {
                    "action": "Allow",
                    "protocol": "TCP",
                    "source": {"selector": f"app == 'b{i % 300}'"},
                    "destination": {"ports": [80 + i % 10]},
                }
            ],
        },
    }
    for i in range(10000)
]
sys.stdout.write(yaml.safe_dump_all(docs))
