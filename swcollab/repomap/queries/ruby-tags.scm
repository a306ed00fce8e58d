; swc repo map: Ruby definitions and references.

(class
  name: [
    (constant) @name.definition.class
    (scope_resolution
      name: (_) @name.definition.class)
  ]) @definition.class

(module
  name: [
    (constant) @name.definition.module
    (scope_resolution
      name: (_) @name.definition.module)
  ]) @definition.module

(method
  name: (_) @name.definition.method) @definition.method

(singleton_method
  name: (_) @name.definition.method) @definition.method

(assignment
  left: (constant) @name.definition.constant) @definition.constant

(call
  method: (identifier) @name.reference.call)

(constant) @name.reference.class

(identifier) @name.reference.identifier
