class Greeter
  def initialize(name)
    @name = name
  end

  def greet
    "Hello, #{@nme}!"
  end
end
