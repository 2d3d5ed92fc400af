"""VDA 5050 2.1 master-side protocol: headers, order building, rules the schemas cannot express."""
