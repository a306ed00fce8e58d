; swc repo map: Python definitions and references.
; Capture names: @name.definition.<kind> is the defined name, @definition.<kind> the whole
; definition; @name.reference.<kind> is a used name.

(class_definition
  name: (identifier) @name.definition.class) @definition.class

(class_definition
  body: (block
    (function_definition
      name: (identifier) @name.definition.method) @definition.method))

(class_definition
  body: (block
    (decorated_definition
      definition: (function_definition
        name: (identifier) @name.definition.method) @definition.method)))

(function_definition
  name: (identifier) @name.definition.function) @definition.function

; Module-level names: UPPER_CASE ones are constants, the others variables.
(module
  (assignment
    left: (identifier) @name.definition.constant) @definition.constant
  (#match? @name.definition.constant "^_*[A-Z][A-Z0-9_]*$"))

(module
  (assignment
    left: (identifier) @name.definition.variable) @definition.variable)

; In Python every use of a name is an identifier node: calls (f(), obj.f()), attribute
; accesses, base classes, decorators, annotations and imports all come down to this one
; pattern, which keeps extraction fast on large code bases.
(identifier) @name.reference.identifier
